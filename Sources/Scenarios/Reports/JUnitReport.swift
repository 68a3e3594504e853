import Foundation

/// JUnit XML: one test case per scenario, failures with their locations.
public enum JUnitReport {
    public static func render(_ results: [ScenarioResult], suite: String = "scenarios") -> String {
        let failures = results.filter { !$0.failures.isEmpty }.count
        let errors = results.filter { $0.error != nil }.count
        let skipped = results.filter { $0.skipped != nil }.count
        let total = results.reduce(0) { $0 + $1.seconds }
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml += "<testsuite name=\"\(markupEscaped(suite))\" tests=\"\(results.count)\" failures=\"\(failures)\" errors=\"\(errors)\" skipped=\"\(skipped)\" time=\"\(String(format: "%.3f", total))\">\n"
        for r in results {
            xml += "  <testcase classname=\"\(markupEscaped(r.scenario.source.file))\" name=\"\(markupEscaped(r.scenario.name))\" time=\"\(String(format: "%.3f", r.seconds))\""
            if let reason = r.skipped {
                xml += ">\n    <skipped message=\"\(markupEscaped(reason))\"/>\n  </testcase>\n"
                continue
            }
            if r.passed {
                xml += "/>\n"
                continue
            }
            xml += ">\n"
            if let error = r.error {
                xml += "    <error message=\"\(markupEscaped(error))\"/>\n"
            }
            for f in r.failures {
                xml += "    <failure message=\"\(markupEscaped(f.expectation))\">\(markupEscaped(f.description))</failure>\n"
            }
            xml += "  </testcase>\n"
        }
        return xml + "</testsuite>\n"
    }

}
