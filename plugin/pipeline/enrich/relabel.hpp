#pragma once
// Relabeler: Prometheus relabel_configs applied to an alert's labels, with Prometheus's
// semantics action by action (regexes anchored at both ends, $1 / ${name} expansion as in
// Go's regexp.Expand, an empty result deleting the label, hashmod over MD5). A rule may be
// scoped to some inputs or some email rule packs. Built once from the config; const methods
// are safe from any thread.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "plugin/config/config.hpp"
#include "plugin/core/label_set.hpp"
#include "plugin/core/result.hpp"

namespace re2 {
class RE2;
}

namespace alertbridge::pipeline {

enum class RuleResult : std::uint8_t {
    kOutOfScope,    // the alert's input (or email rule) is not one the rule is for
    kApplied,       // ran; the labels may or may not have changed
    kDropped,       // keep/drop/keepequal/dropequal removed the alert, or no label was left
    kInvalidLabel,  // the result named an invalid label; the rule did nothing
};

class Relabeler {
  public:
    // Fails, naming the rule's line, for a regex RE2 refuses (the loader reports these first).
    static core::Result<Relabeler> compile(const std::vector<config::RelabelRule>& rules);

    std::size_t size() const { return rules_.size(); }
    const config::RelabelRule& rule(std::size_t i) const { return rules_[i].cfg; }

    // Runs rule `i` on `labels`. `input` is the alert's input id.
    RuleResult applyOne(std::size_t i, core::LabelSet& labels, std::string_view input) const;

  private:
    struct Compiled {
        config::RelabelRule cfg;
        std::shared_ptr<const re2::RE2> re;
        bool target_is_template = false;  // target_label holds $ references
    };
    bool inScope(const Compiled& r, const core::LabelSet& labels, std::string_view input) const;
    std::vector<Compiled> rules_;
};

// Go's regexp.Expand: $1, ${1}, $name, ${name}, $$ for a dollar; a reference to a group
// that does not exist or did not take part expands to nothing. `groups` holds the matched
// spans (group 0 first), null data for a group that did not take part. Exposed for tests.
std::string expandTemplate(std::string_view tmpl, const re2::RE2& re,
                           const std::vector<std::string_view>& groups);

}  // namespace alertbridge::pipeline
