/// The OpenAPI 3.0 description of the admin API, served at `GET /openapi`.
enum AdminOpenAPI {
    static let document = #"""
    {
      "openapi": "3.0.3",
      "info": {"title": "IngressHarness Kafka ingress admin API", "version": "1.0.0",
               "description": "Restate's subscription, deployment, Kafka cluster, invocation-resume, -restart-as-new and -cancel endpoints, plus an invocation listing."},
      "paths": {
        "/subscriptions": {
          "post": {
            "summary": "Create a subscription", "operationId": "create_subscription",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CreateSubscriptionRequest"}}}},
            "responses": {
              "201": {"description": "Created", "headers": {"Location": {"schema": {"type": "string"}}},
                      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Subscription"}}}},
              "400": {"$ref": "#/components/responses/Error"}
            }
          },
          "get": {
            "summary": "List subscriptions", "operationId": "list_subscriptions",
            "parameters": [
              {"name": "sink", "in": "query", "required": false, "schema": {"type": "string"}},
              {"name": "source", "in": "query", "required": false, "schema": {"type": "string"}}
            ],
            "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
              "type": "object", "required": ["subscriptions"],
              "properties": {"subscriptions": {"type": "array", "items": {"$ref": "#/components/schemas/Subscription"}}}}}}}}
          }
        },
        "/subscriptions/{subscription}": {
          "parameters": [{"name": "subscription", "in": "path", "required": true, "schema": {"type": "string"}}],
          "get": {
            "summary": "Get a subscription", "operationId": "get_subscription",
            "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Subscription"}}}},
                          "404": {"$ref": "#/components/responses/Error"}}
          },
          "delete": {
            "summary": "Delete a subscription", "operationId": "delete_subscription",
            "responses": {"202": {"description": "Accepted"}, "404": {"$ref": "#/components/responses/Error"}}
          }
        },
        "/deployments": {
          "post": {
            "summary": "Register a deployment (runs discovery unless one at the same address exists and force is false)", "operationId": "create_deployment",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RegisterDeploymentRequest"}}}},
            "responses": {"200": {"description": "Already registered: unchanged, or overwritten when force is true (201 for an overwrite on /v2)",
                                  "headers": {"Location": {"schema": {"type": "string"}}},
                                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RegisterDeploymentResponse"}}}},
                          "201": {"description": "Created", "headers": {"Location": {"schema": {"type": "string"}}},
                                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RegisterDeploymentResponse"}}}},
                          "400": {"$ref": "#/components/responses/Error"},
                          "409": {"$ref": "#/components/responses/Error", "description": "A service would change its type (META0006), or on /v2 an unforced re-registration"}}
          },
          "get": {
            "summary": "List deployments", "operationId": "list_deployments",
            "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
              "type": "object", "required": ["deployments"],
              "properties": {"deployments": {"type": "array", "items": {"$ref": "#/components/schemas/Deployment"}}}}}}}}
          }
        },
        "/deployments/{deployment}": {
          "parameters": [{"name": "deployment", "in": "path", "required": true, "schema": {"type": "string"}}],
          "get": {
            "summary": "Get a deployment", "operationId": "get_deployment",
            "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DetailedDeployment"}}}},
                          "404": {"$ref": "#/components/responses/Error"}}
          },
          "patch": {
            "summary": "Update a deployment's address or headers in place (discovery runs again; overwrite replaces its services)", "operationId": "update_deployment",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/UpdateDeploymentRequest"}}}},
            "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DetailedDeployment"}}}},
                          "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}
          },
          "put": {
            "summary": "Deprecated: PATCH on /v2, 405 elsewhere", "operationId": "update_deployment_put", "deprecated": true,
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/UpdateDeploymentRequest"}}}},
            "responses": {"405": {"$ref": "#/components/responses/Error"}}
          },
          "delete": {
            "summary": "Remove a deployment (force=true only, as Restate)", "operationId": "delete_deployment",
            "parameters": [{"name": "force", "in": "query", "required": false, "schema": {"type": "boolean"}}],
            "responses": {"202": {"description": "Accepted"}, "404": {"$ref": "#/components/responses/Error"}, "501": {"description": "Only forced removal is supported"}}
          }
        },
        "/invocations": {
          "get": {
            "summary": "List invocations, optionally of one subscription", "operationId": "list_invocations",
            "parameters": [{"name": "subscription", "in": "query", "required": false, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
              "type": "object", "required": ["invocations"],
              "properties": {"invocations": {"type": "array", "items": {"$ref": "#/components/schemas/Invocation"}}}}}}}}
          }
        },
        "/invocations/{invocation_id}/resume": {
          "parameters": [{"name": "invocation_id", "in": "path", "required": true, "schema": {"type": "string"}}],
          "patch": {
            "summary": "Resume a paused invocation (or retry a backing-off one now)", "operationId": "resume_invocation",
            "parameters": [{"name": "deployment", "in": "query", "required": false, "schema": {"type": "string"},
                            "description": "keep (the default), latest, or a deployment id: where a paused or suspended invocation goes on"}],
            "responses": {"200": {"description": "OK"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
                          "409": {"$ref": "#/components/responses/Error"}, "425": {"$ref": "#/components/responses/Error"}}
          }
        },
        "/invocations/{invocation_id}/restart-as-new": {
          "parameters": [{"name": "invocation_id", "in": "path", "required": true, "schema": {"type": "string"}}],
          "patch": {
            "summary": "Start an ended invocation again as a new one, optionally from a prefix of its journal", "operationId": "restart_as_new_invocation",
            "parameters": [
              {"name": "from", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 0}},
              {"name": "deployment", "in": "query", "required": false, "schema": {"type": "string"}, "description": "latest (the default), keep, or a deployment id"}
            ],
            "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
                            "type": "object", "required": ["new_invocation_id"], "properties": {"new_invocation_id": {"type": "string"}}}}}},
                          "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
                          "409": {"$ref": "#/components/responses/Error"}, "410": {"$ref": "#/components/responses/Error"},
                          "422": {"$ref": "#/components/responses/Error"}, "425": {"$ref": "#/components/responses/Error"}}
          }
        },
        "/invocations/{invocation_id}/cancel": {
          "parameters": [{"name": "invocation_id", "in": "path", "required": true, "schema": {"type": "string"}}],
          "patch": {
            "summary": "Cancel an invocation: the cancellation goes into its journal", "operationId": "cancel_invocation",
            "responses": {"202": {"description": "Accepted"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
                          "409": {"$ref": "#/components/responses/Error"}}
          }
        },
        "/kafka-clusters": {
          "post": {
            "summary": "Register a Kafka cluster", "operationId": "create_kafka_cluster",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {
              "type": "object", "required": ["name", "properties"],
              "properties": {"name": {"type": "string"}, "properties": {"type": "object", "additionalProperties": {"type": "string"}}}}}}},
            "responses": {"201": {"description": "Created", "headers": {"Location": {"schema": {"type": "string"}}}},
                          "400": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}}
          },
          "get": {"summary": "List Kafka clusters", "operationId": "list_kafka_clusters", "responses": {"200": {"description": "OK"}}}
        },
        "/kafka-clusters/{cluster_name}": {
          "parameters": [{"name": "cluster_name", "in": "path", "required": true, "schema": {"type": "string"}}],
          "get": {
            "summary": "Get a Kafka cluster", "operationId": "get_kafka_cluster",
            "parameters": [{"name": "include_subscriptions", "in": "query", "required": false, "schema": {"type": "boolean"}}],
            "responses": {"200": {"description": "OK"}, "404": {"$ref": "#/components/responses/Error"}}
          },
          "patch": {
            "summary": "Replace a Kafka cluster's properties (its subscriptions restart)", "operationId": "update_kafka_cluster",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {
              "type": "object", "required": ["properties"],
              "properties": {"properties": {"type": "object", "additionalProperties": {"type": "string"}}}}}}},
            "responses": {"200": {"description": "OK"}, "400": {"$ref": "#/components/responses/Error"},
                          "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}}
          },
          "delete": {
            "summary": "Remove a Kafka cluster", "operationId": "delete_kafka_cluster",
            "parameters": [{"name": "force", "in": "query", "required": false, "schema": {"type": "boolean"}}],
            "responses": {"202": {"description": "Accepted"}, "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}}
          }
        },
        "/metrics": {"get": {"summary": "Prometheus metrics (restate_kafka_ingress_requests_total)", "operationId": "metrics",
                             "responses": {"200": {"description": "OK", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
        "/health": {"get": {"summary": "Liveness", "operationId": "health", "responses": {"200": {"description": "OK"}}}}
      },
      "components": {
        "responses": {
          "Error": {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        },
        "schemas": {
          "Error": {"type": "object", "required": ["message"], "properties": {
            "message": {"type": "string"}, "restate_code": {"type": "string", "nullable": true}}},
          "CreateSubscriptionRequest": {"type": "object", "required": ["source", "sink"], "properties": {
            "source": {"type": "string", "example": "kafka://my-cluster/orders"},
            "sink": {"type": "string", "example": "service://Counter/add"},
            "options": {"type": "object", "additionalProperties": {"type": "string"}}}},
          "Subscription": {"type": "object", "required": ["id", "source", "sink", "options"], "properties": {
            "id": {"type": "string", "pattern": "^sub_1[0-9a-zA-Z]{22}$"},
            "source": {"type": "string"}, "sink": {"type": "string"},
            "options": {"type": "object", "additionalProperties": {"type": "string"},
                        "description": "librdkafka properties; credentials are shown as ***"}}},
          "RegisterDeploymentRequest": {"type": "object", "required": ["uri"], "properties": {
            "uri": {"type": "string"}, "use_http_11": {"type": "boolean"},
            "force": {"type": "boolean", "description": "overwrite a deployment at the same address; default true on /v2 only"},
            "breaking": {"type": "boolean"}, "dry_run": {"type": "boolean"},
            "additional_headers": {"type": "object", "additionalProperties": {"type": "string"}}}},
          "UpdateDeploymentRequest": {"type": "object", "properties": {
            "uri": {"type": "string", "nullable": true}, "use_http_11": {"type": "boolean", "nullable": true},
            "additional_headers": {"type": "object", "nullable": true, "additionalProperties": {"type": "string"}},
            "overwrite": {"type": "boolean"}, "dry_run": {"type": "boolean"}}},
          "ServiceMetadata": {"type": "object", "required": ["name", "ty", "handlers", "deployment_id", "revision"], "properties": {
            "name": {"type": "string"}, "ty": {"type": "string", "enum": ["Service", "VirtualObject", "Workflow"]},
            "handlers": {"type": "array", "items": {"type": "object", "required": ["name"], "properties": {
              "name": {"type": "string"}, "ty": {"type": "string", "enum": ["Exclusive", "Shared", "Workflow"]}}}},
            "deployment_id": {"type": "string"}, "revision": {"type": "integer"}}},
          "RegisterDeploymentResponse": {"type": "object", "required": ["id", "services", "min_protocol_version", "max_protocol_version"], "properties": {
            "id": {"type": "string"}, "services": {"type": "array", "items": {"$ref": "#/components/schemas/ServiceMetadata"}},
            "min_protocol_version": {"type": "integer"}, "max_protocol_version": {"type": "integer"}, "sdk_version": {"type": "string"}}},
          "DetailedDeployment": {"type": "object",
            "required": ["id", "uri", "protocol_type", "http_version", "created_at", "min_protocol_version", "max_protocol_version", "services"],
            "properties": {
              "id": {"type": "string"}, "uri": {"type": "string"}, "protocol_type": {"type": "string", "enum": ["RequestResponse"]},
              "http_version": {"type": "string"}, "additional_headers": {"type": "object", "additionalProperties": {"type": "string"}},
              "created_at": {"type": "string", "format": "date-time"},
              "min_protocol_version": {"type": "integer"}, "max_protocol_version": {"type": "integer"}, "sdk_version": {"type": "string"},
              "services": {"type": "array", "items": {"$ref": "#/components/schemas/ServiceMetadata"}}}},
          "Deployment": {"type": "object", "required": ["id", "uri", "services"], "properties": {
            "id": {"type": "string"}, "uri": {"type": "string"}, "sdk_version": {"type": "string"},
            "min_protocol_version": {"type": "integer"}, "max_protocol_version": {"type": "integer"},
            "additional_headers": {"type": "object", "additionalProperties": {"type": "string"}},
            "services": {"type": "array", "items": {"type": "object", "required": ["name", "ty", "handlers"], "properties": {
              "name": {"type": "string"}, "ty": {"type": "string", "enum": ["SERVICE", "VIRTUAL_OBJECT", "WORKFLOW"]},
              "handlers": {"type": "array", "items": {"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string"}, "ty": {"type": "string", "enum": ["EXCLUSIVE", "SHARED", "WORKFLOW"]}}}}}}}}},
          "Invocation": {"type": "object",
            "required": ["id", "subscription", "target", "status", "attempts", "headers", "topic", "partition", "offset", "created_at"],
            "properties": {
              "id": {"type": "string"}, "subscription": {"type": "string"},
              "target": {"type": "string", "description": "Service/handler"},
              "key": {"type": "string", "nullable": true},
              "status": {"type": "string", "enum": ["pending", "running", "retrying", "completed", "failed"]},
              "attempts": {"type": "integer"},
              "headers": {"type": "object", "additionalProperties": {"type": "string"}},
              "output": {"description": "the handler's JSON output when completed", "nullable": true},
              "error": {"type": "string", "nullable": true, "description": "the terminal failure, or the failure of the last failed attempt"},
              "topic": {"type": "string"}, "partition": {"type": "integer"}, "offset": {"type": "integer", "format": "int64"},
              "created_at": {"type": "integer", "format": "int64"},
              "started_at": {"type": "integer", "format": "int64", "nullable": true},
              "completed_at": {"type": "integer", "format": "int64", "nullable": true}}}
        }
      }
    }
    """#
}
