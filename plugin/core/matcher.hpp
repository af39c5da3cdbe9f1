#pragma once
// Matcher: one label condition in Alertmanager's syntax (name="v", name!="v", name=~"re",
// name!~"re"). Regexes are RE2 and fully anchored, as in Alertmanager. A label that is
// absent matches as the empty string, so `team=""` selects alerts without a team. Immutable
// once built; safe to share between threads.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "plugin/core/label_set.hpp"
#include "plugin/core/result.hpp"

namespace re2 {
class RE2;
}

namespace alertbridge::core {

enum class MatchOp : std::uint8_t { kEqual, kNotEqual, kRegex, kNotRegex };

class Matcher {
  public:
    // Fails for an invalid label name or a regex RE2 refuses.
    static Result<Matcher> make(std::string name, MatchOp op, std::string value);

    bool matches(const LabelSet& labels) const;
    bool matchesValue(std::string_view value) const;

    const std::string& name() const { return name_; }
    MatchOp op() const { return op_; }
    const std::string& value() const { return value_; }
    // name="value" with the value quoted and escaped, as Alertmanager prints matchers.
    std::string toString() const;

  private:
    std::string name_;
    MatchOp op_ = MatchOp::kEqual;
    std::string value_;
    std::shared_ptr<const re2::RE2> re_;  // set for the regex operators
};

// Parses a matcher list as Alertmanager's config and amtool accept it: one matcher
// (`alertname!="Watchdog"`), several separated by commas, optionally inside braces
// (`{service=~"ctp-.*", env="prod"}`). Values may be double-quoted (with \" \\ \n \t
// escapes) or bare (`severity=critical`). Errors name the offending part.
Result<std::vector<Matcher>> parseMatchers(std::string_view text);

// True when every matcher matches (an empty list matches everything).
bool matchesAll(const std::vector<Matcher>& matchers, const LabelSet& labels);

}  // namespace alertbridge::core
