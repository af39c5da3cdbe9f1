// Compiling a vendor rule pack: its YAML read and checked (every problem at file:line),
// its regexes compiled with RE2, its templates checked against the fields it captures.
#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "adapters/email/mail_pairs.hpp"
#include "adapters/email/rule_pack_model.hpp"
#include "adapters/email/vendor_time.hpp"
#include "plugin/core/label_set.hpp"
#include "plugin/core/text.hpp"
#include "plugin/core/time.hpp"

namespace alertbridge::email {

using config::YamlReader;
using pack::kEngineLabels;
using pack::kMailFields;
using pack::shown;
using pack::templateNames;
using pack::trim;

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
                     {"name", "source", "description", "match", "fields", "extract", "severity",
                      "status", "labels", "annotations", "identity", "summary",
                      "description_template", "time", "resolve_timeout"});
        r_.readString(root, "", "name", p->name, true);
        if (!p->name.empty() && !core::isValidLabelName(p->name)) {
            r_.error(root["name"], "name", "use letters, digits and _ (it becomes a label value)");
        }
        p->source = p->name;
        r_.readString(root, "", "source", p->source);
        std::string ignored;
        r_.readString(root, "", "description", ignored);

        compileMatch(root["match"], *p);
        compileFields(root["fields"], *p);
        compileExtract(root["extract"], *p);
        compileSeverity(root["severity"], *p);
        compileStatus(root["status"], *p);
        combineStatusWords(*p);
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
        p->uses_topic = uses_topic_;
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

    // fields: {name: [key, ...]} or {name: {keys: [...], regex: ..., required: true}}
    void compileFields(const YAML::Node& n, RulePack& p) {
        if (!n) return;
        if (!n.IsMap()) {
            r_.error(n, "fields", "expected a mapping of field names to the keys vendors use");
            return;
        }
        for (auto it = n.begin(); it != n.end(); ++it) {
            FieldDef f;
            f.name = it->first.as<std::string>("");
            const std::string fp = "fields." + f.name;
            if (!core::isValidLabelName(f.name)) {
                r_.error(it->first, fp, "a field name is letters, digits and _");
                continue;
            }
            // Copies: `it->second` lives in a temporary the iterator hands out. Constructed,
            // not assigned: assigning a YAML::Node writes into the node it names.
            const YAML::Node def = it->second;
            const YAML::Node keys = def.IsMap() ? def["keys"] : def;
            if (def.IsMap()) {
                r_.expectMap(def, fp, {"keys", "regex", "required"});
                r_.readBool(def, fp, "required", f.required);
                if (def["regex"]) f.re = regex(def["regex"], fp + ".regex");
            }
            if (!keys || !keys.IsSequence() || keys.size() == 0) {
                r_.error(def, fp,
                         "expected the list of keys this field is written under, such as "
                         "[Host, 主机, 主机名]");
                continue;
            }
            for (std::size_t i = 0; i < keys.size(); ++i) {
                auto norm = keys[i].IsScalar() ? normalizeKey(keys[i].Scalar()) : "";
                if (norm.empty()) {
                    r_.error(keys[i], YamlReader::index(fp, i), "expected a key");
                    continue;
                }
                f.keys.push_back(trim(keys[i].Scalar()));
                f.normalized.push_back(std::move(norm));
            }
            if (!fields_.insert(f.name).second) {
                r_.error(it->first, fp, "this field is declared twice");
                continue;
            }
            p.fields.push_back(std::move(f));
        }
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
            if (x.in == "topic") uses_topic_ = true;
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
            if (name == "topic") uses_topic_ = true;
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
        for (const auto& [w, sev] : p.severity_map) p.severity_words.push_back({w, sev});
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
        if (!p.status_from.empty() && p.resolved_words.empty()) {
            r_.error(n, "status",
                     "set resolved: the words in `from` that close the alert (the common words "
                     "are tried after them)");
        }
    }

    // The pack's own words first, then the common ones that do not contradict them.
    static void combineStatusWords(RulePack& p) {
        const auto& common = commonStatusWords();
        p.status_words.resolved.assign(p.resolved_words.begin(), p.resolved_words.end());
        p.status_words.firing.assign(p.firing_words.begin(), p.firing_words.end());
        for (const auto& w : common.resolved) {
            if (p.firing_words.count(w) == 0) p.status_words.resolved.push_back(w);
        }
        for (const auto& w : common.firing) {
            if (p.resolved_words.count(w) == 0) p.status_words.firing.push_back(w);
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
    bool uses_topic_ = false;
};

}  // namespace

std::unique_ptr<RulePack> compilePack(const RuleSource& source,
                                      std::vector<config::ConfigError>& errors) {
    return PackCompiler(source, errors).compile();
}

}  // namespace alertbridge::email
