// Why C: between fork and exec the child may only make async-signal-safe calls; Swift code there
// could take a lock another thread of the test process held at the fork, and hang.
#define _GNU_SOURCE
#include "child_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

// Reports errno to the parent through the status pipe, then exits.
static void fail(int status_fd) {
    int e = errno;
    ssize_t ignored = write(status_fd, &e, sizeof e);
    (void)ignored;
    _exit(127);
}

static void close_from(int lowest) {
    if (syscall(SYS_close_range, (unsigned)lowest, ~0U, 0) == 0) return;
    long max = sysconf(_SC_OPEN_MAX);
    for (int fd = lowest; fd < max; fd++) close(fd);
}

pid_t child_spawn(const char *path, char *const argv[], char *const envp[], const char *directory,
                  int output_fd, int *error) {
    int status[2];
    if (pipe2(status, O_CLOEXEC) != 0) { *error = errno; return -1; }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        *error = errno;
        close(status[0]);
        close(status[1]);
        return -1;
    }
    if (pid == 0) {
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(status[1]);
        // The parent may have died before the line above took effect.
        if (getppid() != parent) _exit(127);
        if (setpgid(0, 0) != 0) fail(status[1]);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        struct sigaction defaults;
        memset(&defaults, 0, sizeof defaults);
        defaults.sa_handler = SIG_DFL;
        for (int sig = 1; sig < NSIG; sig++) sigaction(sig, &defaults, NULL);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull < 0 || dup2(devnull, 0) < 0) fail(status[1]);
        if (dup2(output_fd, 1) < 0 || dup2(output_fd, 2) < 0) fail(status[1]);
        // Keep the status pipe at 3 (close-on-exec), close everything above it.
        if (status[1] != 3 && dup3(status[1], 3, O_CLOEXEC) < 0) fail(status[1]);
        close_from(4);
        if (directory != NULL && chdir(directory) != 0) fail(3);
        execve(path, argv, envp);
        fail(3);
    }
    close(status[1]);
    int child_errno = 0;
    ssize_t n;
    do { n = read(status[0], &child_errno, sizeof child_errno); } while (n < 0 && errno == EINTR);
    close(status[0]);
    if (n == (ssize_t)sizeof child_errno) {
        waitpid(pid, NULL, 0);
        *error = child_errno;
        return -1;
    }
    return pid;
}

int child_output_pipe(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}
