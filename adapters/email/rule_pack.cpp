#include "adapters/email/rule_pack.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>
#include <kainjow/mustache.hpp>
#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include "adapters/email/generic_rule.hpp"
#include "adapters/email/vendor_time.hpp"
#include "plugin/core/label_set.hpp"
#include "plugin/core/text.hpp"
#include "plugin/core/time.hpp"

namespace alertbridge::email {

using config::YamlReader;

namespace {

constexpr std::array<std::string_view, 4> kMailFields = {"subject", "from", "body", "attachments"};
constexpr std::array<std::string_view, 3> kEngineLabels = {"severity", "email_rule", "source"};

std::string trim(std::string_view s) {
    auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && ws(s.front())) s.remove_prefix(1);
    while (!s.empty() && ws(s.back())) s.remove_suffix(1);
    return std::string(s);
}

// A pattern for explanations: short enough to read on one line.
std::string shown(std::string_view pattern) {
    constexpr std::size_t kMax = 60;
    if (pattern.size() <= kMax) return std::string(pattern);
    std::size_t n = kMax;
    while (n > 0 && (static_cast<unsigned char>(pattern[n]) & 0xC0) == 0x80) --n;
    return std::string(pattern.substr(0, n)) + "…";
}

// The field names a mustache template refers to ({{x}}, {{{x}}}, {{&x}}, {{#x}}, {{^x}}).
std::vector<std::string> templateNames(const std::string& text) {
    static const RE2 kTag(R"(\{\{\{?\s*([#^/&]?)\s*([^{}!>=\s][^{}\s]*)\s*\}?\}\})");
    std::vector<std::string> out;
    re2::StringPiece input(text);
    std::string kind, name;
    while (RE2::FindAndConsume(&input, kTag, &kind, &name)) {
        if (kind != "/") out.push_back(name);
    }
    return out;
}

struct Extract {
    std::string in;  // "subject", "from", "body" or a field captured earlier
    std::unique_ptr<RE2> re;
    bool optional = false;
    std::vector<std::pair<int, std::string>> groups;  // capture index -> field name
};

using Fields = std::map<std::string, std::string>;

std::string render(const std::string& text, const kainjow::mustache::data& data) {
    kainjow::mustache::mustache m{text};
    m.set_custom_escape([](const std::string& s) { return s; });
    return trim(m.render(data));
}

}  // namespace

class RulePack {
  public:
    std::string name;
    std::string source;
    std::string file;
    std::map<std::string, std::unique_ptr<RE2>, std::less<>> match;  // subject/from/body
    std::vector<Extract> extract;
    std::vector<std::string> severity_from;
    std::map<std::string, core::Severity> severity_map;  // keys lower-cased
    core::Severity severity_default = core::Severity::kWarning;
    std::vector<std::string> status_from;
    std::set<std::string> resolved_words, firing_words;  // lower-cased
    std::vector<std::pair<std::string, std::string>> labels, annotations;
    std::vector<std::string> identity;
    std::string summary, description;
    std::vector<std::string> starts_at, ends_at;
    std::string duration;
    std::string time_format;  // empty: the layouts parseVendorTime knows
    bool ignore_zone = false;
    std::optional<core::Duration> resolve_timeout;

    // The alert, or the reason this pack does not take the message.
    core::Result<RuleResult> apply(const MailText& mail, const std::string& from,
                                   core::TimePoint received_at, const RuleOptions& opt) const;
};

namespace {

// Builds one RulePack from its YAML, reporting every problem with file:line.
class PackCompiler {
  public:
    PackCompiler(const RuleSource& src, std::vector<config::ConfigError>& errors)
        : src_(src), r_(src.file, errors), errors_(errors), before_(errors.size()) {}

    std::unique_ptr<RulePack> compile() {
        YAML::Node root;
        try {
            root = YAML::Load(src_.text);
        } catch (const YAML::Exception& e) {
            errors_.push_back(config::ConfigError{src_.file, e.mark.line + 1, "", e.msg});
            return nullptr;
        }
        if (!root.IsMap()) {
            r_.error(root, "", "a rule pack is a mapping (name, match, extract, labels, ...)");
            return nullptr;
        }
        auto p = std::make_unique<RulePack>();
        p->file = src_.file;
        r_.expectMap(root, "",
                     {"name", "source", "description", "match", "extract", "severity", "status",
                      "labels", "annotations", "identity", "summary", "description_template",
                      "time", "resolve_timeout"});
        r_.readString(root, "", "name", p->name, true);
        if (!p->name.empty() && !core::isValidLabelName(p->name)) {
            r_.error(root["name"], "name", "use letters, digits and _ (it becomes a label value)");
        }
        p->source = p->name;
        r_.readString(root, "", "source", p->source);
        std::string ignored;
        r_.readString(root, "", "description", ignored);

        compileMatch(root["match"], *p);
        compileExtract(root["extract"], *p);
        compileSeverity(root["severity"], *p);
        compileStatus(root["status"], *p);
        compileTemplates(root["labels"], "labels", p->labels, true);
        compileTemplates(root["annotations"], "annotations", p->annotations, false);
        compileIdentity(root, *p);
        readTemplate(root, "summary", p->summary, true);
        readTemplate(root, "description_template", p->description, false);
        compileTime(root["time"], *p);
        if (root["resolve_timeout"]) {
            core::Duration d{};
            r_.readDuration(root, "", "resolve_timeout", d, std::chrono::minutes(1));
            p->resolve_timeout = d;
        }
        return errors_.size() == before_ ? std::move(p) : nullptr;
    }

  private:
    std::unique_ptr<RE2> regex(const YAML::Node& n, const std::string& path) {
        if (!n.IsScalar() || n.Scalar().empty()) {
            r_.error(n, path, "expected a regular expression (RE2 syntax)");
            return nullptr;
        }
        RE2::Options o;
        o.set_log_errors(false);
        auto re = std::make_unique<RE2>(n.Scalar(), o);
        if (!re->ok()) {
            r_.error(n, path, fmt::format("invalid regular expression: {}", re->error()));
            return nullptr;
        }
        return re;
    }

    void compileMatch(const YAML::Node& n, RulePack& p) {
        if (!n) {
            r_.error(n, "match", "is required: how this vendor's mail is recognised");
            return;
        }
        if (!r_.expectMap(n, "match", {"subject", "from", "body", "attachments"})) return;
        for (auto key : kMailFields) {
            if (!n[std::string(key)]) continue;
            if (auto re = regex(n[std::string(key)], "match." + std::string(key))) {
                p.match.emplace(std::string(key), std::move(re));
            }
        }
        if (n.size() == 0) r_.error(n, "match", "needs at least one of subject, from, body");
    }

    void compileExtract(const YAML::Node& n, RulePack& p) {
        if (!n) return;
        if (!r_.expectSequence(n, "extract")) return;
        for (std::size_t i = 0; i < n.size(); ++i) {
            const auto& e = n[i];
            auto ep = YamlReader::index("extract", i);
            if (!r_.expectMap(e, ep, {"in", "regex", "optional"})) {
                if (!e.IsMap()) continue;
            }
            Extract x;
            x.in = "body";
            r_.readString(e, ep, "in", x.in);
            r_.readBool(e, ep, "optional", x.optional);
            bool known_in =
                std::find(kMailFields.begin(), kMailFields.end(), x.in) != kMailFields.end() ||
                fields_.count(x.in) > 0;
            if (!known_in) {
                r_.error(e["in"], ep + ".in",
                         fmt::format("\"{}\" is neither subject, from, body nor a field captured "
                                     "by an earlier extract",
                                     x.in));
            }
            if (!e["regex"]) {
                r_.error(e, ep + ".regex", "is required");
                continue;
            }
            x.re = regex(e["regex"], ep + ".regex");
            if (!x.re) continue;
            if (x.re->NamedCapturingGroups().empty()) {
                r_.error(e["regex"], ep + ".regex",
                         "captures nothing: name the parts to keep, as in (?P<host>\\S+)");
            }
            for (const auto& [group, index] : x.re->NamedCapturingGroups()) {
                x.groups.emplace_back(index, group);
                fields_.insert(group);
            }
            p.extract.push_back(std::move(x));
        }
    }

    // A template, or a list of them (the first that renders non-empty is used).
    std::vector<std::string> templateList(const YAML::Node& n, const std::string& path) {
        std::vector<std::string> out;
        if (n.IsScalar()) {
            if (auto t = checkTemplate(n, path)) out.push_back(*t);
        } else if (n.IsSequence()) {
            for (std::size_t i = 0; i < n.size(); ++i) {
                if (auto t = checkTemplate(n[i], YamlReader::index(path, i))) out.push_back(*t);
            }
        } else {
            r_.error(n, path, "expected a template or a list of templates");
        }
        return out;
    }

    std::optional<std::string> checkTemplate(const YAML::Node& n, const std::string& path) {
        if (!n.IsScalar()) {
            r_.error(n, path, "expected a template such as \"{{host}}\"");
            return std::nullopt;
        }
        const std::string& text = n.Scalar();
        kainjow::mustache::mustache m{text};
        if (!m.is_valid()) {
            r_.error(n, path, "invalid template: " + m.error_message());
            return std::nullopt;
        }
        for (const auto& name : templateNames(text)) {
            if (fields_.count(name) > 0 ||
                std::find(kMailFields.begin(), kMailFields.end(), name) != kMailFields.end()) {
                continue;
            }
            std::vector<std::string_view> known(kMailFields.begin(), kMailFields.end());
            for (const auto& f : fields_) known.emplace_back(f);
            auto hint = config::didYouMean(name, known);
            r_.error(n, path,
                     hint.empty()
                         ? fmt::format("unknown field \"{}\": no extract captures it", name)
                         : fmt::format("unknown field \"{}\" (did you mean \"{}\"?)", name, hint));
        }
        return text;
    }

    void readTemplate(const YAML::Node& map, const char* key, std::string& out, bool required) {
        const auto& n = map[key];
        if (!n) {
            if (required) r_.error(map, key, "is required");
            return;
        }
        if (auto t = checkTemplate(n, key)) out = *t;
    }

    std::vector<std::string> wordList(const YAML::Node& n, const std::string& path) {
        std::vector<std::string> out;
        if (!n) return out;
        if (!n.IsSequence()) {
            r_.error(n, path, "expected a list of words");
            return out;
        }
        for (std::size_t i = 0; i < n.size(); ++i) {
            if (!n[i].IsScalar() || trim(n[i].Scalar()).empty()) {
                r_.error(n[i], YamlReader::index(path, i), "expected a word");
                continue;
            }
            out.push_back(core::asciiLower(trim(n[i].Scalar())));
        }
        return out;
    }

    void compileSeverity(const YAML::Node& n, RulePack& p) {
        if (!n) return;
        if (!r_.expectMap(n, "severity", {"from", "map", "default"})) return;
        if (n["from"]) p.severity_from = templateList(n["from"], "severity.from");
        const auto& m = n["map"];
        if (m && !m.IsMap())
            r_.error(m, "severity.map", "expected a mapping of words to severities");
        if (m && m.IsMap()) {
            for (auto it = m.begin(); it != m.end(); ++it) {
                auto word = core::asciiLower(trim(it->first.as<std::string>("")));
                core::Severity s{};
                auto path = "severity.map." + word;
                if (!it->second.IsScalar() || !core::parseSeverityName(it->second.Scalar(), s)) {
                    r_.error(it->second, path, "expected critical, warning or info");
                    continue;
                }
                if (!p.severity_map.emplace(word, s).second) {
                    r_.error(it->first, path, "this word is mapped twice");
                }
            }
        }
        if (n["default"]) {
            if (!n["default"].IsScalar() ||
                !core::parseSeverityName(n["default"].Scalar(), p.severity_default)) {
                r_.error(n["default"], "severity.default", "expected critical, warning or info");
            }
        }
        if (p.severity_from.empty() != p.severity_map.empty()) {
            r_.error(n, "severity", "set both from (where the word is) and map (what it means)");
        }
    }

    void compileStatus(const YAML::Node& n, RulePack& p) {
        if (!n) return;
        if (!r_.expectMap(n, "status", {"from", "resolved", "firing"})) return;
        if (n["from"]) p.status_from = templateList(n["from"], "status.from");
        for (auto& w : wordList(n["resolved"], "status.resolved")) p.resolved_words.insert(w);
        for (auto& w : wordList(n["firing"], "status.firing")) {
            if (p.resolved_words.count(w) > 0) {
                r_.error(n["firing"], "status.firing", "\"" + w + "\" is also a resolved word");
            }
            p.firing_words.insert(w);
        }
        if (p.status_from.empty() || p.resolved_words.empty()) {
            r_.error(n, "status", "set from (where the status word is) and resolved (its words)");
        }
    }

    void compileTemplates(const YAML::Node& n, const std::string& path,
                          std::vector<std::pair<std::string, std::string>>& out, bool are_labels) {
        if (!n) return;
        if (!n.IsMap()) {
            r_.error(n, path, "expected a mapping of names to templates");
            return;
        }
        for (auto it = n.begin(); it != n.end(); ++it) {
            auto key = it->first.as<std::string>("");
            std::string kp = path;
            kp.append(".").append(key);
            if (!core::isValidLabelName(key)) {
                r_.error(it->first, kp, "not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)");
                continue;
            }
            if (are_labels &&
                std::find(kEngineLabels.begin(), kEngineLabels.end(), key) != kEngineLabels.end()) {
                r_.error(it->first, kp,
                         "is set by the rule engine (use the pack's severity, name or source)");
                continue;
            }
            if (auto t = checkTemplate(it->second, kp)) out.emplace_back(key, *t);
        }
    }

    void compileIdentity(const YAML::Node& root, RulePack& p) {
        const auto& n = root["identity"];
        if (!n) {
            r_.error(root, "identity",
                     "is required: the labels that name one alert, so a recovery mail finds it");
            return;
        }
        if (!r_.expectSequence(n, "identity")) return;
        for (std::size_t i = 0; i < n.size(); ++i) {
            auto ip = YamlReader::index("identity", i);
            const std::string name = n[i].IsScalar() ? n[i].Scalar() : "";
            bool defined =
                name == "source" || std::any_of(p.labels.begin(), p.labels.end(),
                                                [&](const auto& l) { return l.first == name; });
            if (!defined) {
                r_.error(n[i], ip,
                         fmt::format("\"{}\" is not a label of this pack (source or one of "
                                     "labels)",
                                     name));
                continue;
            }
            p.identity.push_back(name);
        }
        if (p.identity.empty()) r_.error(n, "identity", "needs at least one label");
    }

    void compileTime(const YAML::Node& n, RulePack& p) {
        if (!n) return;
        if (!r_.expectMap(n, "time",
                          {"starts_at", "ends_at", "duration", "format", "ignore_zone"})) {
            return;
        }
        r_.readString(n, "time", "format", p.time_format);
        if (n["format"] && p.time_format.find('%') == std::string::npos) {
            r_.error(n["format"], "time.format",
                     "expected a strftime-style layout such as \"%d/%m/%Y %H:%M:%S\"");
        }
        if (n["starts_at"]) p.starts_at = templateList(n["starts_at"], "time.starts_at");
        if (n["ends_at"]) p.ends_at = templateList(n["ends_at"], "time.ends_at");
        if (n["duration"]) {
            if (auto t = checkTemplate(n["duration"], "time.duration")) p.duration = *t;
        }
        r_.readBool(n, "time", "ignore_zone", p.ignore_zone);
    }

    const RuleSource& src_;
    YamlReader r_;
    std::vector<config::ConfigError>& errors_;
    std::size_t before_;
    std::set<std::string> fields_;  // named captures so far
};

}  // namespace

core::Result<RuleResult> RulePack::apply(const MailText& mail, const std::string& from,
                                         core::TimePoint received_at,
                                         const RuleOptions& opt) const {
    std::string attachments;
    for (const auto& n : mail.attachment_names) {
        attachments += attachments.empty() ? n : ", " + n;
    }
    auto mail_field = [&](std::string_view which) -> const std::string& {
        if (which == "subject") return mail.subject;
        if (which == "from") return from;
        if (which == "attachments") return attachments;
        return mail.body;
    };
    for (const auto& [which, re] : match) {
        if (!RE2::PartialMatch(mail_field(which), *re)) {
            return core::Error{fmt::format("{} does not match /{}/", which, shown(re->pattern()))};
        }
    }

    Fields fields;
    std::vector<re2::StringPiece> groups;
    for (const auto& x : extract) {
        static const std::string kNone;
        const std::string* source = &kNone;  // a field captured earlier, else the mail's own
        if (auto found = fields.find(x.in); found != fields.end()) {
            source = &found->second;
        } else if (std::find(kMailFields.begin(), kMailFields.end(), x.in) != kMailFields.end()) {
            source = &mail_field(x.in);
        }
        const std::string& text = *source;
        groups.assign(static_cast<std::size_t>(x.re->NumberOfCapturingGroups()) + 1, {});
        if (!x.re->Match(text, 0, text.size(), RE2::UNANCHORED, groups.data(),
                         static_cast<int>(groups.size()))) {
            if (x.optional) continue;
            return core::Error{
                fmt::format("matched, but {} has no match for /{}/", x.in, shown(x.re->pattern()))};
        }
        // Copied out before any is stored: a capture may overwrite the field it reads.
        std::vector<std::pair<const std::string*, std::string>> captured;
        for (const auto& [index, name] : x.groups) {
            const auto& g = groups[static_cast<std::size_t>(index)];
            if (g.data() == nullptr) continue;
            auto value = trim(std::string_view(g.data(), g.size()));
            if (!value.empty()) captured.emplace_back(&name, std::move(value));
        }
        for (auto& [name, value] : captured) fields[*name] = std::move(value);
    }

    kainjow::mustache::data data;
    data.set("subject", mail.subject);
    data.set("from", from);
    data.set("body", mail.body);
    if (!attachments.empty()) data.set("attachments", attachments);
    for (const auto& [k, v] : fields) data.set(k, v);
    auto first = [&](const std::vector<std::string>& templates) {
        for (const auto& t : templates) {
            auto s = render(t, data);
            if (!s.empty()) return s;
        }
        return std::string();
    };

    RuleResult out;
    out.rule = name;
    out.file = file;
    core::Alert& a = out.alert;
    a.origin = core::Origin{std::string(kInput), core::SourceKind::kEmail, received_at, 0};

    bool resolved = false;
    if (auto word = first(status_from); !word.empty()) {
        auto w = core::asciiLower(word);
        resolved = resolved_words.count(w) > 0;
        if (!resolved && !firing_words.empty() && firing_words.count(w) == 0) {
            out.warnings.push_back(fmt::format(
                "status word \"{}\" is neither firing nor resolved; taken as firing", word));
        }
    }

    std::string severity_raw;
    a.severity = severity_default;
    for (const auto& t : severity_from) {
        auto word = render(t, data);
        if (word.empty()) continue;
        if (severity_raw.empty()) severity_raw = word;
        if (auto it = severity_map.find(core::asciiLower(word)); it != severity_map.end()) {
            a.severity = it->second;
            severity_raw = word;
            break;
        }
    }
    if (!severity_raw.empty() && !severity_map.count(core::asciiLower(severity_raw))) {
        out.warnings.push_back(fmt::format("severity word \"{}\" is not in the map; {} is used",
                                           severity_raw, core::severityName(a.severity)));
    }

    for (const auto& [k, t] : labels) {
        auto v = render(t, data);
        if (!v.empty()) a.labels.set(k, v);
    }
    a.labels.set("source", source);
    a.labels.set("email_rule", name);
    a.labels.set("severity", core::severityName(a.severity));
    for (const auto& k : identity) {
        if (const auto* v = a.labels.get(k)) a.identity_labels.set(k, *v);
    }

    for (const auto& [k, t] : annotations) {
        auto v = render(t, data);
        if (!v.empty()) a.annotations.set(k, v);
    }
    auto summary_text = render(summary, data);
    if (summary_text.empty()) summary_text = mail.subject.empty() ? "(no subject)" : mail.subject;
    a.annotations.set("summary", summary_text);
    if (!a.annotations.contains("description")) {
        auto d = description.empty() ? mail.body : render(description, data);
        if (!d.empty()) a.annotations.set("description", clipText(d, kMaxDescriptionBytes));
    }
    if (!severity_raw.empty()) a.annotations.set("severity_raw", severity_raw);
    if (!mail.subject.empty()) a.annotations.set("email_subject", mail.subject);
    if (!from.empty()) a.annotations.set("email_from", from);
    if (!mail.message_id.empty()) a.annotations.set("email_message_id", mail.message_id);
    if (mail.attachments > 0) {
        a.annotations.set("email_attachments",
                          attachments.empty() ? std::to_string(mail.attachments) : attachments);
    }

    ZoneHint hint;
    if (mail.date) hint.date_header_offset_minutes = mail.date_offset_minutes;
    hint.fallback = opt.timezone;
    hint.ignore_zone = ignore_zone;
    auto first_time = [&](const std::vector<std::string>& templates,
                          const char* what) -> std::optional<core::TimePoint> {
        for (const auto& t : templates) {
            auto s = render(t, data);
            if (s.empty()) continue;
            auto parsed = time_format.empty() ? parseVendorTime(s, hint)
                                              : parseVendorTime(s, time_format, hint);
            if (parsed) return *parsed;
            out.warnings.push_back(
                fmt::format("{} \"{}\" is not a time: {}", what, s, parsed.error()));
        }
        return std::nullopt;
    };
    auto starts = first_time(starts_at, "starts_at");
    std::optional<core::TimePoint> ends;
    if (resolved) {
        ends = first_time(ends_at, "ends_at");
        if (!ends) ends = mail.date.value_or(received_at);
        if (!starts && !duration.empty()) {
            auto text = render(duration, data);
            if (auto d = parseVendorDuration(text); d) {
                starts = *ends - *d;
            } else if (!text.empty()) {
                out.warnings.push_back(
                    fmt::format("duration \"{}\" is not a duration: {}", text, d.error()));
            }
        }
    }
    a.starts_at = starts.value_or(mail.date.value_or(received_at));
    if (resolved) {
        a.ends_at = std::max(*ends, a.starts_at);
    } else if (resolve_timeout) {
        a.ends_at = received_at + *resolve_timeout;
    }
    return out;
}

RuleSet::RuleSet() = default;
RuleSet::~RuleSet() = default;

namespace {

std::unique_ptr<RulePack> compilePack(const RuleSource& source,
                                      std::vector<config::ConfigError>& errors) {
    return PackCompiler(source, errors).compile();
}

}  // namespace

std::string checkPack(const RuleSource& source, std::vector<config::ConfigError>& errors) {
    auto pack = compilePack(source, errors);
    return pack ? pack->name : std::string();
}

std::shared_ptr<const RuleSet> RuleSet::compile(const std::vector<RuleSource>& user,
                                                const std::vector<RuleSource>& builtin,
                                                const std::vector<std::string>& disabled,
                                                RuleOptions options,
                                                std::vector<config::ConfigError>& errors) {
    auto set = std::make_shared<RuleSet>();
    set->options_ = options;
    std::set<std::string> names;
    for (const auto& src : user) {
        auto pack = compilePack(src, errors);
        if (!pack) continue;
        if (!names.insert(pack->name).second) {
            errors.push_back(config::ConfigError{
                src.file, 1, "name", fmt::format("another rule pack is named \"{}\"", pack->name)});
            continue;
        }
        set->packs_.push_back(std::move(pack));
    }
    for (const auto& src : builtin) {
        auto pack = compilePack(src, errors);
        if (!pack) continue;
        bool off = std::find(disabled.begin(), disabled.end(), pack->name) != disabled.end();
        if (off || !names.insert(pack->name).second) continue;  // disabled, or a user's replaces it
        set->packs_.push_back(std::move(pack));
    }
    return set;
}

namespace {

std::string senderOf(const MailText& mail, std::string_view envelope_from) {
    return senderAddress(!mail.from.empty()          ? std::string_view(mail.from)
                         : !mail.return_path.empty() ? std::string_view(mail.return_path)
                                                     : envelope_from);
}

}  // namespace

std::vector<RuleMiss> RuleSet::explain(const MailText& mail, std::string_view envelope_from,
                                       core::TimePoint received_at) const {
    std::string from = senderOf(mail, envelope_from);
    std::vector<RuleMiss> out;
    for (const auto& pack : packs_) {
        auto r = pack->apply(mail, from, received_at, options_);
        out.push_back(RuleMiss{pack->name, r ? std::string() : r.error()});
    }
    return out;
}

RuleResult RuleSet::apply(const MailText& mail, std::string_view envelope_from,
                          core::TimePoint received_at) const {
    std::string from = senderOf(mail, envelope_from);
    std::vector<RuleMiss> misses;
    for (const auto& pack : packs_) {
        auto r = pack->apply(mail, from, received_at, options_);
        if (r) {
            r->misses = std::move(misses);
            if (r->alert.starts_at > received_at) r->alert.starts_at = received_at;
            return std::move(r).value();
        }
        misses.push_back(RuleMiss{pack->name, r.error()});
    }
    RuleResult out;
    out.alert = genericAlert(mail, envelope_from, received_at, options_.generic_resolve_timeout);
    out.rule = "generic";
    out.misses = std::move(misses);
    return out;
}

std::vector<std::string> RuleSet::names() const {
    std::vector<std::string> out;
    out.reserve(packs_.size());
    for (const auto& p : packs_) out.push_back(p->name);
    return out;
}

}  // namespace alertbridge::email
