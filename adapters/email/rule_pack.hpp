#pragma once
// Vendor rule packs: how an email from an appliance becomes a proper alert. A pack is data
// (one YAML file per vendor, see adapters/email/rules/README.md for the format): RE2
// patterns that recognise the vendor's mail, named captures that become fields, mustache
// templates that turn fields into labels, annotations and a summary, the vendor's own
// severity and status words, its time fields, and the identity labels the fingerprint is
// computed from, so that a recovery mail resolves the alert its problem mail opened.
//
// A RuleSet tries its packs in order (users' packs first, then the built-in ones) and falls
// back to the generic rule, so every email becomes an alert. Compiled once; apply() is const
// and safe from any thread.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/email/mime_text.hpp"
#include "plugin/config/yaml_reader.hpp"
#include "plugin/core/alert.hpp"

namespace date {
class time_zone;
}

namespace alertbridge::email {

// The YAML text of one pack and the name it is reported under ("rules/smartx.yml" for a
// built-in pack, the path for a user's).
struct RuleSource {
    std::string file;
    std::string text;
};

// The packs built into the binary, embedded from adapters/email/rules/*.yml, in file order.
const std::vector<RuleSource>& builtinRuleSources();

struct RuleOptions {
    const date::time_zone* timezone = nullptr;  // global.timezone; nullptr = UTC
    core::Duration generic_resolve_timeout = std::chrono::hours(4);
};

// Why one pack did not take a message (for `email-test`).
struct RuleMiss {
    std::string rule;
    std::string reason;
};

struct RuleResult {
    core::Alert alert;
    std::string rule;                   // the pack's name, or "generic"
    std::string file;                   // where the pack is defined ("" for generic)
    std::vector<RuleMiss> misses;       // packs tried before `rule`, in order
    std::vector<std::string> warnings;  // e.g. a time field that did not parse
    std::vector<FieldOrigin> fields;    // what the pack read, in the order it read it
};

class RulePack;

class RuleSet {
  public:
    // Compiles the users' packs, then every built-in pack that is neither disabled nor
    // replaced by a user's pack of the same name. Problems go to `errors` as file:line.
    static std::shared_ptr<const RuleSet> compile(const std::vector<RuleSource>& user,
                                                  const std::vector<RuleSource>& builtin,
                                                  const std::vector<std::string>& disabled,
                                                  RuleOptions options,
                                                  std::vector<config::ConfigError>& errors);

    RuleResult apply(const MailText& mail, std::string_view envelope_from,
                     core::TimePoint received_at) const;

    // Every pack's verdict on one message, in order: an empty reason means it matches.
    // For `email-test`; apply() stops at the first match.
    std::vector<RuleMiss> explain(const MailText& mail, std::string_view envelope_from,
                                  core::TimePoint received_at) const;

    // Pack names in the order they are tried.
    std::vector<std::string> names() const;

    RuleSet();
    ~RuleSet();
    RuleSet(const RuleSet&) = delete;
    RuleSet& operator=(const RuleSet&) = delete;

  private:
    std::vector<std::unique_ptr<RulePack>> packs_;
    RuleOptions options_;
};

// Compiles one pack on its own and returns its name, or "" when it has errors.
std::string checkPack(const RuleSource& source, std::vector<config::ConfigError>& errors);

// A raw message to its alert: MIME to text (a message that cannot be parsed becomes an
// empty one, which the generic rule still turns into an alert), then the rules. The one
// path every email takes: SMTP, IMAP, journal replay and the archive's re-parse.
// `mail` (if given) gets the parsed text.
RuleResult decodeMessage(const RuleSet& rules, std::string_view raw, std::string_view envelope_from,
                         core::TimePoint received_at, MailText* mail = nullptr);

}  // namespace alertbridge::email
