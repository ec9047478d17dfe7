// Test helpers for exporter/http: temp dirs, subprocesses (curl, openssl,
// promtool), a minimal raw HTTP/1.1 client over a real socket, a test PKI
// generated at run time with openssl, and bcrypt hashes from libxcrypt.
//
// Every blocking call is bounded (socket timeouts, curl --max-time).
// Not thread-safe; tests use them from the test thread.

#ifndef PSE_TESTING_HTTP_UTIL_H_
#define PSE_TESTING_HTTP_UTIL_H_

#include <map>
#include <string>
#include <vector>

namespace pse {
namespace test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string Write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

struct CommandResult {
  int exit_code = -1;  // -1: could not run
  std::string out;
  std::string err;
};
CommandResult Run(const std::vector<std::string>& argv);
bool HaveCommand(const std::string& name);
// "" when every command is on PATH; else a message naming the missing ones
// and scripts/install-deps.sh --test. Tests assert it is empty: a missing
// tool is a failure, never a skip.
std::string MissingTools(const std::vector<std::string>& names);

struct HttpResponse {
  int status = 0;  // 0: no HTTP response (connection closed/reset first)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string raw;
};
// Connects to 127.0.0.1:port (or `host`), sends `request` verbatim, reads to EOF.
HttpResponse RawRequest(int port, const std::string& request,
                        const std::string& host = "127.0.0.1");
// GET/HEAD/... `path` with Connection: close and extra header lines.
HttpResponse Request(int port, const std::string& method, const std::string& path,
                     const std::vector<std::string>& headers = {},
                     const std::string& host = "127.0.0.1");
// An open connection with a 30 s receive timeout; -1 on failure.
int Connect(int port, const std::string& host = "127.0.0.1");
bool SendAll(int fd, const std::string& data);

// CA, server cert (SAN 127.0.0.1, localhost) and client certs, in `dir`:
// ca.pem, server.pem, server.key, client.pem, client.key (signed by the CA),
// rogue.pem, rogue.key (self-signed, not trusted). Returns false on failure.
bool MakeTestPki(const std::string& dir);

// bcrypt hash of `password` (libxcrypt, $2b$, cost 4: fast for tests).
std::string BcryptHash(const std::string& password);

std::string Gunzip(const std::string& data);

}  // namespace test
}  // namespace pse

#endif  // PSE_TESTING_HTTP_UTIL_H_
