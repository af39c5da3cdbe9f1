#pragma once
// Inside adapters/email: a vendor rule pack once compiled (RulePack), and what the compiler
// (rule_compile.cpp) and the engine that applies packs (rule_pack.cpp) share. Not part of
// the adapter's interface; rule_pack.hpp is.

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <kainjow/mustache.hpp>
#include <re2/re2.h>

#include "adapters/email/rule_pack.hpp"
#include "adapters/email/status_words.hpp"

namespace alertbridge::email::pack {

// What every pack can read besides its fields. `topic` is the subject without its status
// words ("Resolved in 5m: X" and "Problem: X" are both "X"; status_words.hpp).
inline constexpr std::array<std::string_view, 5> kMailFields = {"subject", "from", "body",
                                                                "attachments", "topic"};
inline constexpr std::array<std::string_view, 3> kEngineLabels = {"severity", "email_rule",
                                                                  "source"};

std::string trim(std::string_view s);
// A pattern for explanations: short enough to read on one line.
std::string shown(std::string_view pattern);
// The field names a mustache template refers to ({{x}}, {{{x}}}, {{&x}}, {{#x}}, {{^x}}).
std::vector<std::string> templateNames(const std::string& text);
std::string render(const std::string& text, const kainjow::mustache::data& data);

struct Extract {
    std::string in;  // "subject", "from", "body" or a field captured earlier
    std::unique_ptr<RE2> re;
    bool optional = false;
    std::vector<std::pair<int, std::string>> groups;  // capture index -> field name
};

using Fields = std::map<std::string, std::string>;

// A field found by meaning: the first of `keys` the message has (any layout, mail_pairs.hpp),
// its value optionally narrowed by `re` (the first capture group, else the whole match).
struct FieldDef {
    std::string name;
    std::vector<std::string> keys;        // as written in the pack, for explanations
    std::vector<std::string> normalized;  // normalizeKey() of each
    std::unique_ptr<RE2> re;
    bool required = false;
};

}  // namespace alertbridge::email::pack

namespace alertbridge::email {

using pack::Extract;
using pack::FieldDef;
using pack::Fields;

class RulePack {
  public:
    std::string name;
    std::string source;
    std::string file;
    std::map<std::string, std::unique_ptr<RE2>, std::less<>> match;  // subject/from/body
    std::vector<FieldDef> fields;
    std::vector<Extract> extract;
    std::vector<std::string> severity_from;
    std::map<std::string, core::Severity> severity_map;  // keys lower-cased
    std::vector<SeverityWord> severity_words;            // the map, for words within a text
    core::Severity severity_default = core::Severity::kWarning;
    std::vector<std::string> status_from;
    std::set<std::string> resolved_words, firing_words;  // lower-cased
    StatusWords status_words;  // the pack's words, then the common ones it does not contradict
    std::vector<std::pair<std::string, std::string>> labels, annotations;
    std::vector<std::string> identity;
    std::string summary, description;
    std::vector<std::string> starts_at, ends_at;
    std::string duration;
    std::string time_format;  // empty: the layouts parseVendorTime knows
    bool ignore_zone = false;
    std::optional<core::Duration> resolve_timeout;
    bool uses_topic = false;  // some template or extract reads `topic` (computed only then)

    // The alert, or the reason this pack does not take the message.
    core::Result<RuleResult> apply(const MailText& mail, const std::string& from,
                                   core::TimePoint received_at, const RuleOptions& opt) const;
};

// Builds one RulePack from its source, reporting every problem with file:line; null when
// the pack has errors.
std::unique_ptr<RulePack> compilePack(const RuleSource& source,
                                      std::vector<config::ConfigError>& errors);

}  // namespace alertbridge::email
