#ifndef CHILD_SPAWN_H
#define CHILD_SPAWN_H

#include <sys/types.h>

/// Starts `path` (absolute) with `argv` and `envp` (NULL-terminated) in `directory` (or the
/// current one when NULL) such that the child:
/// - leads a process group of its own (pgid == pid), so its whole tree can be signalled;
/// - gets SIGKILL when the thread that called this exits (PR_SET_PDEATHSIG), so it cannot
///   outlive a crashed test process; call it from a thread that lives as long as the process;
/// - reads /dev/null, writes stdout and stderr to `output_fd`, and inherits no other descriptor,
///   so it never holds the test run's own output open;
/// - starts with default signal dispositions and an empty signal mask.
/// Returns the pid, or -1 with `*error` set to the errno of the step that failed (exec included).
pid_t child_spawn(const char *path, char *const argv[], char *const envp[], const char *directory,
                  int output_fd, int *error);

/// A pipe whose ends are closed on exec, for a child's output: no other child inherits it.
int child_output_pipe(int fds[2]);

#endif
