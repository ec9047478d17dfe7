#include "testing/http_util.h"

#include <arpa/inet.h>
#include <crypt.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace pse {
namespace test {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = absl::StrCat(base ? base : "/tmp", "/pse_http_test.XXXXXX");
  if (mkdtemp(&tmpl[0]) != nullptr) path_ = tmpl;
}

TempDir::~TempDir() {
  if (!path_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
}

std::string TempDir::Write(const std::string& name, const std::string& content) const {
  std::string file = path_ + "/" + name;
  std::ofstream(file, std::ios::binary) << content;
  return file;
}

CommandResult Run(const std::vector<std::string>& argv) {
  CommandResult result;
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return result;
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    return result;
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (pid < 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    return result;
  }
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_count = 2;
  while (open_count > 0) {
    if (poll(fds, 2, 120000) <= 0) break;  // bounded: commands carry their own timeouts
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
      } else {
        sinks[i]->append(buf, static_cast<size_t>(n));
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) close(f.fd);
  }
  int status = 0;
  if (open_count > 0) kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

bool HaveCommand(const std::string& name) {
  return Run({"sh", "-c", "command -v " + name}).exit_code == 0;
}

std::string MissingTools(const std::vector<std::string>& names) {
  std::vector<std::string> missing;
  for (const std::string& name : names) {
    if (!HaveCommand(name)) missing.push_back(name);
  }
  if (missing.empty()) return "";
  return absl::StrCat("MISSING TOOL (", absl::StrJoin(missing, ", "),
                      "): run scripts/install-deps.sh --test");
}

int Connect(int port, const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0) return -1;
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    timeval tv{30, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  return fd;
}

bool SendAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

namespace {

HttpResponse Parse(std::string raw) {
  HttpResponse r;
  r.raw = raw;
  size_t end = raw.find("\r\n\r\n");
  if (!absl::StartsWith(raw, "HTTP/1.") || end == std::string::npos) return r;
  std::vector<std::string> lines = absl::StrSplit(raw.substr(0, end), "\r\n");
  std::vector<std::string> status_line = absl::StrSplit(lines[0], absl::MaxSplits(' ', 2));
  if (status_line.size() < 2 || !absl::SimpleAtoi(status_line[1], &r.status)) return r;
  for (size_t i = 1; i < lines.size(); ++i) {
    size_t colon = lines[i].find(':');
    if (colon == std::string::npos) continue;
    r.headers[absl::AsciiStrToLower(lines[i].substr(0, colon))] =
        std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
  }
  r.body = raw.substr(end + 4);
  return r;
}

}  // namespace

HttpResponse RawRequest(int port, const std::string& request, const std::string& host) {
  int fd = Connect(port, host);
  if (fd < 0) return {};
  SendAll(fd, request);
  std::string raw;
  char buf[16384];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    raw.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return Parse(raw);
}

HttpResponse Request(int port, const std::string& method, const std::string& path,
                     const std::vector<std::string>& headers, const std::string& host) {
  std::string req =
      absl::StrCat(method, " ", path, " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
  for (const std::string& h : headers) absl::StrAppend(&req, h, "\r\n");
  req += "\r\n";
  return RawRequest(port, req, host);
}

bool MakeTestPki(const std::string& dir) {
  auto ok = [](const std::vector<std::string>& argv) { return Run(argv).exit_code == 0; };
  const std::string d = dir + "/";
  std::ofstream(d + "server.ext") << "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                                     "extendedKeyUsage=serverAuth\n";
  std::ofstream(d + "client.ext") << "extendedKeyUsage=clientAuth\n";
  const std::vector<std::string> ec = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                                       "-nodes"};
  auto req = [&](const std::string& name, const std::string& subject) {
    std::vector<std::string> argv = {"openssl", "req", "-new"};
    argv.insert(argv.end(), ec.begin(), ec.end());
    argv.insert(argv.end(),
                {"-keyout", d + name + ".key", "-out", d + name + ".csr", "-subj", subject});
    return ok(argv);
  };
  auto sign = [&](const std::string& name, const std::string& ext) {
    return ok({"openssl", "x509", "-req", "-in", d + name + ".csr", "-CA", d + "ca.pem", "-CAkey",
               d + "ca.key", "-CAcreateserial", "-days", "2", "-out", d + name + ".pem", "-extfile",
               d + ext});
  };
  std::vector<std::string> ca = {"openssl", "req", "-x509"};
  ca.insert(ca.end(), ec.begin(), ec.end());
  ca.insert(ca.end(), {"-keyout", d + "ca.key", "-out", d + "ca.pem", "-days", "2", "-subj",
                       "/CN=pse test CA"});
  std::vector<std::string> rogue = {"openssl", "req", "-x509"};
  rogue.insert(rogue.end(), ec.begin(), ec.end());
  rogue.insert(rogue.end(),
               {"-keyout", d + "rogue.key", "-out", d + "rogue.pem", "-days", "2", "-subj",
                "/CN=rogue client", "-addext", "extendedKeyUsage=clientAuth"});
  return ok(ca) && req("server", "/CN=localhost") && sign("server", "server.ext") &&
         req("client", "/CN=pse test client") && sign("client", "client.ext") && ok(rogue);
}

std::string BcryptHash(const std::string& password) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", 4, nullptr, 0, setting, sizeof(setting)) == nullptr) return "";
  crypt_data data{};
  const char* out = crypt_rn(password.c_str(), setting, &data, sizeof(data));
  return out != nullptr && out[0] != '*' ? out : "";
}

std::string Gunzip(const std::string& data) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return "";
  std::string out;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  char buf[16384];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - zs.avail_out);
  }
  inflateEnd(&zs);
  return rc == Z_STREAM_END ? out : "<bad gzip>";
}

}  // namespace test
}  // namespace pse
