#pragma once
// What an email fixture's .expected.json says of the alert, checked the same way for every
// corpus: the identity labels and their fingerprint, the start and (for a recovery) the end,
// and the decoded subject.

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <fmt/format.h>

#include "../test_util.hpp"
#include "plugin/core/alert.hpp"

namespace alertbridge::testing {

inline void expectAsSidecar(const core::Alert& a, const rapidjson::Value& want, bool resolved) {
    core::LabelSet identity;
    for (const auto& m : want["labels"].GetObject()) {
        identity.set(m.name.GetString(), m.value.GetString());
    }
    EXPECT_EQ(a.identity_labels, identity);
    EXPECT_EQ(fmt::format("{:016x}", a.identity_labels.fingerprint()),
              want["fingerprint"].GetString());
    EXPECT_EQ(a.starts_at, at(want["starts_at"].GetString())) << "starts_at";
    if (resolved) {
        ASSERT_TRUE(a.ends_at.has_value());
        EXPECT_EQ(*a.ends_at, at(want["ends_at"].GetString())) << "ends_at";
    }
    const auto* subject = a.annotations.get("email_subject");
    ASSERT_NE(subject, nullptr);
    EXPECT_EQ(*subject, want["subject"].GetString());
}

}  // namespace alertbridge::testing
