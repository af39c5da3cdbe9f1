#include "plugin/pipeline/enrich/relabel.hpp"

#include <algorithm>
#include <array>

#include <openssl/evp.h>
#include <re2/re2.h>

#include <fmt/format.h>

#include "plugin/core/text.hpp"

namespace alertbridge::pipeline {
namespace {

using config::RelabelAction;

bool isNameChar(char c) {
    // Go's regexp.Expand takes letters, digits and '_' (Unicode letters included: any
    // byte of a multi-byte UTF-8 sequence counts as a letter here).
    auto u = static_cast<unsigned char>(c);
    return std::isalnum(u) != 0 || c == '_' || u >= 0x80;
}

std::string_view joined(const core::LabelSet& labels, const config::RelabelRule& r,
                        std::string& buf) {
    if (r.source_labels.size() == 1) {
        const std::string* v = labels.get(r.source_labels[0]);
        return v == nullptr ? std::string_view() : std::string_view(*v);
    }
    buf.clear();
    for (std::size_t i = 0; i < r.source_labels.size(); ++i) {
        if (i > 0) buf += r.separator;
        if (const std::string* v = labels.get(r.source_labels[i])) buf += *v;
    }
    return buf;
}

bool fullMatch(const re2::RE2& re, std::string_view s) {
    return re2::RE2::FullMatch(re2::StringPiece(s.data(), s.size()), re);
}

// Matches `s` and fills `groups` (group 0 first). False when it does not match. Up to
// kInlineGroups spans live on the stack: relabel regexes rarely have more groups.
constexpr int kInlineGroups = 10;

bool submatch(const re2::RE2& re, std::string_view s, std::vector<std::string_view>& groups) {
    int n = re.NumberOfCapturingGroups() + 1;
    std::array<re2::StringPiece, kInlineGroups> inline_sp;
    std::vector<re2::StringPiece> heap_sp;
    re2::StringPiece* sp = inline_sp.data();
    if (n > kInlineGroups) {
        heap_sp.resize(static_cast<std::size_t>(n));
        sp = heap_sp.data();
    }
    if (!re.Match(re2::StringPiece(s.data(), s.size()), 0, s.size(), re2::RE2::ANCHOR_BOTH, sp,
                  n)) {
        return false;
    }
    groups.clear();
    for (int i = 0; i < n; ++i) {
        groups.emplace_back(sp[i].data() == nullptr ? std::string_view()
                                                    : std::string_view(sp[i].data(), sp[i].size()));
    }
    return true;
}

void setOrErase(core::LabelSet& labels, const std::string& name, std::string_view value) {
    if (value.empty()) {
        labels.erase(name);
    } else {
        labels.set(name, value);
    }
}

std::uint64_t hashMod(std::string_view s, std::uint64_t modulus) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    EVP_Digest(s.data(), s.size(), md.data(), &len, EVP_md5(), nullptr);
    // Prometheus reads the last 8 of the 16 bytes, big-endian.
    std::uint64_t v = 0;
    for (std::size_t i = 8; i < 16; ++i) v = (v << 8) | md[i];
    return v % modulus;
}

}  // namespace

std::string expandTemplate(std::string_view tmpl, const re2::RE2& re,
                           const std::vector<std::string_view>& groups) {
    std::string out;
    std::size_t i = 0;
    while (i < tmpl.size()) {
        std::size_t dollar = tmpl.find('$', i);
        if (dollar == std::string_view::npos) {
            out.append(tmpl.substr(i));
            break;
        }
        out.append(tmpl.substr(i, dollar - i));
        i = dollar + 1;
        if (i < tmpl.size() && tmpl[i] == '$') {
            out.push_back('$');
            ++i;
            continue;
        }
        bool brace = i < tmpl.size() && tmpl[i] == '{';
        std::size_t start = brace ? i + 1 : i;
        std::size_t end = start;
        while (end < tmpl.size() && isNameChar(tmpl[end])) ++end;
        if (end == start || (brace && (end >= tmpl.size() || tmpl[end] != '}'))) {
            out.push_back('$');  // malformed: the dollar is literal text
            continue;
        }
        std::string_view name = tmpl.substr(start, end - start);
        i = brace ? end + 1 : end;
        int num = 0;
        bool numeric = !(name.size() > 1 && name[0] == '0');
        for (char c : name) {
            if (c < '0' || c > '9' || num >= 100000000) {
                numeric = false;
                break;
            }
            num = num * 10 + (c - '0');
        }
        if (numeric) {
            if (static_cast<std::size_t>(num) < groups.size()) {
                out.append(groups[static_cast<std::size_t>(num)]);
            }
            continue;
        }
        const auto& named = re.NamedCapturingGroups();
        if (auto it = named.find(std::string(name)); it != named.end()) {
            auto idx = static_cast<std::size_t>(it->second);
            if (idx < groups.size()) out.append(groups[idx]);
        }
    }
    return out;
}

core::Result<Relabeler> Relabeler::compile(const std::vector<config::RelabelRule>& rules) {
    Relabeler r;
    for (const auto& cfg : rules) {
        re2::RE2::Options opts;
        opts.set_log_errors(false);
        auto re = std::make_shared<const re2::RE2>("^(?:" + cfg.regex + ")$", opts);
        if (!re->ok()) {
            return core::Error{
                fmt::format("line {}: invalid regex \"{}\": {}", cfg.line, cfg.regex, re->error())};
        }
        Compiled c{cfg, std::move(re), cfg.target_label.find('$') != std::string::npos};
        r.rules_.push_back(std::move(c));
    }
    return r;
}

bool Relabeler::inScope(const Compiled& r, const core::LabelSet& labels,
                        std::string_view input) const {
    const auto& cfg = r.cfg;
    if (!cfg.inputs.empty() &&
        std::find_if(cfg.inputs.begin(), cfg.inputs.end(), [&](const config::Located& l) {
            return l.value == input;
        }) == cfg.inputs.end()) {
        return false;
    }
    if (cfg.email_rules.empty()) return true;
    if (input != "email") return false;
    const std::string* pack = labels.get("email_rule");
    if (pack == nullptr) return false;
    return std::any_of(cfg.email_rules.begin(), cfg.email_rules.end(),
                       [&](const config::Located& l) { return l.value == *pack; });
}

RuleResult Relabeler::applyOne(std::size_t i, core::LabelSet& labels,
                               std::string_view input) const {
    const Compiled& c = rules_[i];
    const auto& cfg = c.cfg;
    if (!inScope(c, labels, input)) return RuleResult::kOutOfScope;
    std::string buf;
    std::string_view val = joined(labels, cfg, buf);
    auto target_value = [&]() -> std::string_view {
        const std::string* t = labels.get(cfg.target_label);
        return t == nullptr ? std::string_view() : std::string_view(*t);
    };
    RuleResult result = RuleResult::kApplied;
    switch (cfg.action) {
        case RelabelAction::kDrop:
            if (fullMatch(*c.re, val)) return RuleResult::kDropped;
            break;
        case RelabelAction::kKeep:
            if (!fullMatch(*c.re, val)) return RuleResult::kDropped;
            break;
        case RelabelAction::kDropEqual:
            if (target_value() == val) return RuleResult::kDropped;
            break;
        case RelabelAction::kKeepEqual:
            if (target_value() != val) return RuleResult::kDropped;
            break;
        case RelabelAction::kReplace: {
            thread_local std::vector<std::string_view> groups;
            if (!submatch(*c.re, val, groups)) break;  // no match: no change
            std::string target = c.target_is_template
                                     ? expandTemplate(cfg.target_label, *c.re, groups)
                                     : cfg.target_label;
            if (!core::isValidLabelName(target)) return RuleResult::kInvalidLabel;
            std::string res = expandTemplate(cfg.replacement, *c.re, groups);
            setOrErase(labels, target, res);
            break;
        }
        case RelabelAction::kLowercase:
            setOrErase(labels, cfg.target_label, core::asciiLower(val));
            break;
        case RelabelAction::kUppercase:
            setOrErase(labels, cfg.target_label, core::asciiUpper(val));
            break;
        case RelabelAction::kHashMod:
            labels.set(cfg.target_label, std::to_string(hashMod(val, cfg.modulus)));
            break;
        case RelabelAction::kLabelMap: {
            // Over a snapshot, as Prometheus does: names added here are not mapped again.
            const auto snapshot = labels.pairs();
            std::vector<std::string_view> groups;
            for (const auto& [name, value] : snapshot) {
                if (!submatch(*c.re, name, groups)) continue;
                std::string res = expandTemplate(cfg.replacement, *c.re, groups);
                if (!core::isValidLabelName(res)) {
                    result = RuleResult::kInvalidLabel;
                    continue;
                }
                labels.set(res, value);
            }
            break;
        }
        case RelabelAction::kLabelDrop:
        case RelabelAction::kLabelKeep: {
            bool drop_matching = cfg.action == RelabelAction::kLabelDrop;
            std::vector<std::string> doomed;
            for (const auto& [name, value] : labels) {
                if (fullMatch(*c.re, name) == drop_matching) doomed.push_back(name);
            }
            for (const auto& name : doomed) labels.erase(name);
            break;
        }
    }
    if (labels.empty()) return RuleResult::kDropped;
    return result;
}

}  // namespace alertbridge::pipeline
