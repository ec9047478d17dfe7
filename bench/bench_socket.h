// bench_socket.h: the socket addresses shared by the receiver part's
// programs (syslog_sender.cc, syslog_floor.cc), each compiled on its own.
//
//   UnixAddress(path)          a sockaddr_un for a socket path
//   InetAddress("HOST:PORT")   a sockaddr_in for a numeric IPv4 address
#ifndef PSE_BENCH_BENCH_SOCKET_H_
#define PSE_BENCH_BENCH_SOCKET_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstdlib>
#include <cstring>
#include <string>

inline struct sockaddr_un UnixAddress(const std::string& path) {
  struct sockaddr_un sa = {};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, path.c_str(), sizeof(sa.sun_path) - 1);
  return sa;
}

inline struct sockaddr_in InetAddress(const std::string& address) {
  const size_t colon = address.rfind(':');
  struct sockaddr_in sa = {};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(std::atoi(address.c_str() + colon + 1)));
  inet_pton(AF_INET, address.substr(0, colon).c_str(), &sa.sin_addr);
  return sa;
}

#endif  // PSE_BENCH_BENCH_SOCKET_H_
