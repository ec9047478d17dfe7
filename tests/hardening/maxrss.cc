// maxrss: runs a command and reports the most memory it held.
//
//   maxrss OUT_FILE COMMAND [ARG...]
//
// Writes the command's peak resident set size in KiB (ru_maxrss from
// wait4) to OUT_FILE and exits with the command's exit status (128 + signal
// number if it was killed). stdin/stdout/stderr are the command's own.
//
// Why a helper: ru_maxrss also counts what the process held before exec, so
// a child forked straight from Python starts at Python's size (13+ MiB, more
// once the test has built a big input). Forked from this small program, the
// command's peak is its own.
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: maxrss OUT_FILE COMMAND [ARG...]\n");
    return 2;
  }
  pid_t pid = fork();
  if (pid < 0) {
    std::perror("maxrss: fork");
    return 2;
  }
  if (pid == 0) {
    execvp(argv[2], argv + 2);
    std::fprintf(stderr, "maxrss: %s: %s\n", argv[2], std::strerror(errno));
    _exit(127);
  }
  int status = 0;
  struct rusage ru {};
  while (wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) {
      std::perror("maxrss: wait4");
      return 2;
    }
  }
  std::FILE* out = std::fopen(argv[1], "w");
  if (out == nullptr || std::fprintf(out, "%ld\n", ru.ru_maxrss) < 0 || std::fclose(out) != 0) {
    std::perror("maxrss: writing the result");
    return 2;
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}
