#include "parsers/dovecot_auth.h"

#include <string>

#include "gtest/gtest.h"

namespace pse {
namespace {

using R = FailureReason;

TEST(DovecotAuth, FailureTable) {
  struct Case {
    std::string msg;
    const char* driver;
    const char* user;
    const char* addr;
    R reason;
  } cases[] = {
      // 2.3 without a session id.
      {"auth: passwd-file(alice,192.0.2.7): Password mismatch", "passwd-file", "alice", "192.0.2.7",
       R::kBadCredentials},
      {"auth: passwd-file(bob,192.0.2.7): unknown user", "passwd-file", "bob", "192.0.2.7",
       R::kUnknownAccount},
      // With the session id (2.3 later versions, 2.4).
      {"auth: sql(carol,2001:db8::5,<Hq3kZ2kSxt4KAAAB>): user disabled", "sql", "carol",
       "2001:db8::5", R::kUnknownAccount},
      {"auth: ldap(dave,198.51.100.4,<abc>): Password expired", "ldap", "dave", "198.51.100.4",
       R::kUnknownAccount},
      // auth_verbose_passwords appends the password (or its hash).
      {"auth: passwd-file(eve,192.0.2.9): Password mismatch (given password: hunter2)",
       "passwd-file", "eve", "192.0.2.9", R::kBadCredentials},
      {"auth: passwd-file(eve,192.0.2.9): unknown user (SHA1 of given password: 1a2b)",
       "passwd-file", "eve", "192.0.2.9", R::kUnknownAccount},
      // Dovecot's own log file carries the level.
      {"auth: Info: passwd-file(frank,192.0.2.10,<s>): Password mismatch", "passwd-file", "frank",
       "192.0.2.10", R::kBadCredentials},
      // PAM through the auth worker.
      {"auth-worker(1234): pam(gina,192.0.2.11): pam_authenticate() failed: Authentication "
       "failure (password mismatch?)",
       "pam", "gina", "192.0.2.11", R::kBadCredentials},
      {"auth-worker(77): Info: pam(hal,192.0.2.12,<x>): pam_authenticate() failed: User not "
       "known to the underlying authentication module",
       "pam", "hal", "192.0.2.12", R::kUnknownAccount},
      {"auth-worker(77): pam(ivy,192.0.2.13): pam_authenticate() failed: Authentication service "
       "cannot retrieve authentication info",
       "pam", "ivy", "192.0.2.13", R::kBackendUnavailable},
      // A user name with commas: the address is the last field.
      {"auth: passwd-file(a,b,c,192.0.2.14): unknown user", "passwd-file", "a,b,c", "192.0.2.14",
       R::kUnknownAccount},
  };
  for (const Case& c : cases) {
    DovecotAuthFailure f;
    ASSERT_TRUE(ParseDovecotAuthFailure(c.msg, &f)) << c.msg;
    EXPECT_EQ(f.driver, c.driver) << c.msg;
    EXPECT_EQ(f.username, c.user) << c.msg;
    EXPECT_EQ(f.client_addr, c.addr) << c.msg;
    EXPECT_EQ(f.reason, c.reason) << c.msg;
  }
}

TEST(DovecotAuth, NotFailures) {
  for (const char* msg : {
           "auth: passwd-file(alice,192.0.2.7): lookup: user=alice file=/etc/dovecot/users",
           "auth: Debug: client in: AUTH\t1\tPLAIN\tservice=smtp",
           "imap-login: Login: user=<alice>, method=PLAIN, rip=192.0.2.7",
           "auth: passwd-file(alice,not-an-ip): unknown user",
           "auth: passwd-file(alice): unknown user",
           "auth-worker(x): pam(a,192.0.2.1): unknown user",
           "auth: Fatal: master: service(auth): child 1 killed with signal 9",
           "",
       }) {
    DovecotAuthFailure f;
    EXPECT_FALSE(ParseDovecotAuthFailure(msg, &f)) << msg;
  }
}

// Dovecot 2.4: the fields name the process, the passdb comes after them.
TEST(DovecotAuth, Dovecot24Forms) {
  struct Case {
    std::string msg;
    const char* driver;
    const char* user;
    const char* addr;
    R reason;
  } cases[] = {
      {"auth(alice,192.0.2.7,sasl:plain)<Hq3kZ2kSxt4KAAAB>: passwd-file: Password mismatch",
       "passwd-file", "alice", "192.0.2.7", R::kBadCredentials},
      // Its own log file: the level after the fields.
      {"auth(tom@example.com,172.17.0.1,sasl:plain)<Cd5NZ2o8ZpysEQAB>: Info: passwd-file: unknown "
       "user",
       "passwd-file", "tom@example.com", "172.17.0.1", R::kUnknownAccount},
      // No session id; a master login; a passdb named by the admin.
      {"auth(bob,2001:db8::5,sasl:login,master): users: user disabled", "users", "bob",
       "2001:db8::5", R::kUnknownAccount},
      // The auth worker: its pid, the session, the request number.
      {"auth-worker(carol,192.0.2.9,sasl:plain)<4242><s1>: request [7]: pam: pam_authenticate() "
       "failed: Authentication failure (password mismatch?)",
       "pam", "carol", "192.0.2.9", R::kBadCredentials},
      // A user name with ')' and ',' and a fake ")<x>: " inside.
      {"auth(a)<x>: b,c,192.0.2.10,sasl:plain)<s>: passwd-file: Password mismatch", "passwd-file",
       "a)<x>: b,c", "192.0.2.10", R::kBadCredentials},
      {"auth(dave,192.0.2.11,sasl:plain): Password expired", "", "dave", "192.0.2.11",
       R::kUnknownAccount},
  };
  for (const Case& c : cases) {
    DovecotAuthFailure f;
    ASSERT_TRUE(ParseDovecotAuthFailure(c.msg, &f)) << c.msg;
    EXPECT_EQ(f.driver, c.driver) << c.msg;
    EXPECT_EQ(f.username, c.user) << c.msg;
    EXPECT_EQ(f.client_addr, c.addr) << c.msg;
    EXPECT_EQ(f.reason, c.reason) << c.msg;
  }
  for (const char* msg : {
           "auth(alice,192.0.2.7,sasl:plain)<s>: Debug: passwd-file: Performing passdb lookup",
           "auth(alice,sasl:plain): passwd-file: Password mismatch",  // no address
           "auth(alice,192.0.2.7,sasl:plain)<s: passwd-file: Password mismatch",
           "auth(alice,192.0.2.7,sasl:plain)<s>: request [x]: pam: unknown user",
           "auth(alice,192.0.2.7,sasl:plain) passwd-file: Password mismatch",
           "auth(alice,192.0.2.7)<s>: passwd-file: unknown user",  // a lookup, not a login
       }) {
    DovecotAuthFailure f;
    EXPECT_FALSE(ParseDovecotAuthFailure(msg, &f)) << msg;
  }
}

// A framed record: the tag decides whether the message carries the process.
TEST(DovecotAuth, RecordByIdentifier) {
  DovecotAuthFailure f;
  ASSERT_TRUE(
      ParseDovecotAuthRecord("dovecot", "auth: passwd-file(a,192.0.2.1): unknown user", &f));
  EXPECT_EQ(f.reason, R::kUnknownAccount);
  // Dovecot's own log file: "Mmm dd hh:mm:ss auth: Info: ..." frames as tag "auth".
  ASSERT_TRUE(
      ParseDovecotAuthRecord("auth", "Info: passwd-file(b,192.0.2.2,<s>): Password mismatch", &f));
  EXPECT_EQ(f.username, "b");
  EXPECT_EQ(f.reason, R::kBadCredentials);
  ASSERT_TRUE(ParseDovecotAuthRecord(
      "auth-worker(9)", "pam(c,192.0.2.3): pam_authenticate() failed: Authentication failure", &f));
  EXPECT_EQ(f.client_addr, "192.0.2.3");
  ASSERT_TRUE(ParseDovecotAuthRecord("dovecot-auth", "sql(d,192.0.2.4): user disabled", &f));
  EXPECT_EQ(f.reason, R::kUnknownAccount);
  // Under "dovecot" the process prefix is required: other processes log there too.
  EXPECT_FALSE(ParseDovecotAuthRecord("dovecot", "passwd-file(a,192.0.2.1): unknown user", &f));
  EXPECT_FALSE(ParseDovecotAuthRecord("auth", "Info: lookup done", &f));
}

}  // namespace
}  // namespace pse
