#include "exporter/service_table.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace pse {
namespace {

TEST(ServiceTable, LabelDropsPostfixPrefixAndPlainPostfixIsSmtp) {
  ServiceTable t;
  EXPECT_EQ(t.label(t.Resolve("postfix/submission").label), "submission");
  EXPECT_EQ(t.label(t.Resolve("postfix").label), "smtp");
  EXPECT_EQ(t.label(t.Resolve("postfix-out").label), "postfix-out");
}

TEST(ServiceTable, SameNameSameIds) {
  ServiceTable t;
  ServiceId a = t.Resolve("postfix/submission");
  t.Resolve("postfix");
  ServiceId b = t.Resolve("postfix/submission");
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.label, b.label);
}

TEST(ServiceTable, NamesSharingALabelKeepTheirOwnNameIds) {
  ServiceTable t;
  ServiceId plain = t.Resolve("postfix");
  ServiceId smtp = t.Resolve("postfix/smtp");
  EXPECT_EQ(plain.label, smtp.label);
  EXPECT_NE(plain.name, smtp.name);
}

TEST(ServiceTable, ImplausibleNamesAreOtherButStayDistinctNames) {
  ServiceTable t;
  ServiceId a = t.Resolve("postfix/\xff\xfe");
  ServiceId b = t.Resolve("postfix/has space");
  EXPECT_EQ(t.label(a.label), "other");
  EXPECT_EQ(a.label, b.label);
  // Two names folded into "other" are still two services for pid reuse.
  EXPECT_NE(a.name, b.name);
  EXPECT_EQ(t.syslog_name(a.name), "postfix/\xff\xfe");
}

TEST(ServiceTable, LabelsPastTheCapShareOther) {
  ServiceTable t;
  for (size_t i = 0; i < ServiceTable::kMaxLabels + 10; ++i) {
    t.Resolve(absl::StrCat("postfix-", i));
  }
  EXPECT_EQ(t.label_count(), ServiceTable::kMaxLabels);
  EXPECT_EQ(t.label(t.Resolve("postfix-70").label), "other");
  EXPECT_EQ(t.label(t.Resolve("postfix-1").label), "postfix-1");
}

TEST(ServiceTable, NamesPastTheCapShareOneNameIdButKeepLabels) {
  ServiceTable t;
  for (size_t i = 0; i < ServiceTable::kMaxNames; ++i) {
    t.Resolve(absl::StrCat("postfix-x/n", i));
  }
  ServiceId a = t.Resolve("postfix/late-a");
  ServiceId b = t.Resolve("postfix/late-b");
  EXPECT_EQ(a.name, b.name);
  // The overflow id matches no instance, not even itself.
  EXPECT_FALSE(t.SameInstance(a.name, b.name));
}

TEST(ServiceTable, SameInstanceComparesTheNameBeforeTheFirstSlash) {
  ServiceTable t;
  ServiceId master = t.Resolve("postfix");
  ServiceId sub = t.Resolve("postfix/submission");
  ServiceId other = t.Resolve("postfix-out");
  ServiceId other_sub = t.Resolve("postfix-out/submission");
  EXPECT_TRUE(t.SameInstance(master.name, sub.name));
  EXPECT_FALSE(t.SameInstance(master.name, other_sub.name));
  EXPECT_TRUE(t.SameInstance(other.name, other_sub.name));
  EXPECT_EQ(t.instance(other_sub.name), "postfix-out");
}

TEST(ServiceTable, PlausibleNames) {
  EXPECT_TRUE(ServiceTable::IsPlausibleName("submission"));
  EXPECT_TRUE(ServiceTable::IsPlausibleName("127.0.0.1:2525"));
  EXPECT_TRUE(ServiceTable::IsPlausibleName("[::1]:25"));
  EXPECT_FALSE(ServiceTable::IsPlausibleName(""));
  EXPECT_FALSE(ServiceTable::IsPlausibleName(std::string(65, 'a')));
  EXPECT_FALSE(ServiceTable::IsPlausibleName("a b"));
  EXPECT_FALSE(ServiceTable::IsPlausibleName("caf\xc3\xa9"));
}

}  // namespace
}  // namespace pse
