#include "plugin/config/enrich_loader.hpp"

#include <algorithm>
#include <array>
#include <set>

#include <re2/re2.h>

#include <fmt/format.h>

#include "plugin/config/calendar_loader.hpp"
#include "plugin/core/text.hpp"
#include "plugin/core/url.hpp"

namespace alertbridge::config {
namespace {

namespace fs = std::filesystem;

constexpr std::array<std::pair<std::string_view, RelabelAction>, 11> kActions = {{
    {"replace", RelabelAction::kReplace},
    {"keep", RelabelAction::kKeep},
    {"drop", RelabelAction::kDrop},
    {"hashmod", RelabelAction::kHashMod},
    {"labelmap", RelabelAction::kLabelMap},
    {"labeldrop", RelabelAction::kLabelDrop},
    {"labelkeep", RelabelAction::kLabelKeep},
    {"lowercase", RelabelAction::kLowercase},
    {"uppercase", RelabelAction::kUppercase},
    {"keepequal", RelabelAction::kKeepEqual},
    {"dropequal", RelabelAction::kDropEqual},
}};

// Prometheus's rule for a target_label that may hold $ references.
bool isRelabelTarget(std::string_view s) {
    static const re2::RE2 kTarget(R"(^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$)");
    return re2::RE2::FullMatch(re2::StringPiece(s.data(), s.size()), kTarget);
}

bool isTableName(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
    });
}

class EnrichLoader {
  public:
    EnrichLoader(YamlReader& r, fs::path base_dir, const AuthFieldsReader& auth_fields)
        : r_(r), base_dir_(std::move(base_dir)), auth_fields_(auth_fields) {}

    void load(const YAML::Node& n, EnrichConfig& e) {
        if (!r_.expectMap(n, "enrich",
                          {"relabel_configs", "tables", "classify", "classify_default",
                           "file_check_interval", "calendar_labels"})) {
            return;
        }
        forEach(n, "enrich", "relabel_configs",
                [&](const YAML::Node& m, const std::string& p, std::size_t i) {
                    relabel(m, p, i, e.relabel_configs);
                });
        std::set<std::string> names;
        forEach(n, "enrich", "tables", [&](const YAML::Node& m, const std::string& p, std::size_t) {
            table(m, p, names, e.tables);
        });
        forEach(n, "enrich", "classify",
                [&](const YAML::Node& m, const std::string& p, std::size_t i) {
                    classify(m, p, i, e.classify);
                });
        if (n["classify_default"]) {
            e.classify_default = core::LabelSet{};
            labelMap(n["classify_default"], "enrich.classify_default", e.classify_default);
        }
        r_.readDuration(n, "enrich", "file_check_interval", e.file_check_interval,
                        std::chrono::milliseconds(100));
        if (n["calendar_labels"]) {
            loadCalendarLabels(r_, n["calendar_labels"], "enrich.calendar_labels",
                               e.calendar_labels);
        }
    }

  private:
    void forEach(
        const YAML::Node& n, const std::string& p, const char* key,
        const std::function<void(const YAML::Node&, const std::string&, std::size_t)>& fn) {
        auto list = n[key];
        std::string lp = YamlReader::join(p, key);
        if (!r_.expectSequence(list, lp)) return;
        for (std::size_t i = 0; i < list.size(); ++i) fn(list[i], YamlReader::index(lp, i), i);
    }

    // A list of scalars at `key`.
    std::vector<Located> strings(const YAML::Node& m, const std::string& p, const char* key) {
        std::vector<Located> out;
        auto list = m[key];
        std::string lp = YamlReader::join(p, key);
        if (!r_.expectSequence(list, lp)) return out;
        for (std::size_t i = 0; i < list.size(); ++i) {
            if (!list[i].IsScalar()) {
                r_.error(list[i], YamlReader::index(lp, i), "expected a single value");
                continue;
            }
            out.push_back(Located{list[i].Scalar(), list[i].Mark().line + 1});
        }
        return out;
    }

    // name: value pairs that become labels.
    void labelMap(const YAML::Node& m, const std::string& p, core::LabelSet& out) {
        if (!m || m.IsNull()) return;
        if (!m.IsMap()) {
            r_.error(m, p, "expected a map of label: value");
            return;
        }
        for (auto it = m.begin(); it != m.end(); ++it) {
            auto name = it->first.as<std::string>("");
            std::string np = YamlReader::join(p, name);
            if (!core::isValidLabelName(name)) {
                r_.error(it->first, np, "is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)");
                continue;
            }
            if (!it->second.IsScalar()) {
                r_.error(it->second, np, "expected a single value");
                continue;
            }
            out.set(name, it->second.Scalar());
        }
    }

    void relabel(const YAML::Node& m, const std::string& p, std::size_t index,
                 std::vector<RelabelRule>& out) {
        if (!r_.expectMap(m, p,
                          {"name", "source_labels", "separator", "regex", "target_label",
                           "replacement", "modulus", "action", "inputs", "email_rules"})) {
            return;
        }
        RelabelRule rule;
        rule.line = m.Mark().line + 1;
        rule.name = std::to_string(index);
        r_.readString(m, p, "name", rule.name);
        for (const auto& l : strings(m, p, "source_labels")) {
            if (!core::isValidLabelName(l.value)) {
                r_.error(m["source_labels"], p + ".source_labels",
                         fmt::format("\"{}\" is not a valid label name", l.value));
            }
            rule.source_labels.push_back(l.value);
        }
        r_.readString(m, p, "separator", rule.separator);
        r_.readString(m, p, "regex", rule.regex);
        r_.readString(m, p, "target_label", rule.target_label);
        r_.readString(m, p, "replacement", rule.replacement);
        std::size_t modulus = 0;
        r_.readSize(m, p, "modulus", modulus, 0, std::numeric_limits<std::uint32_t>::max());
        rule.modulus = modulus;
        std::string action = "replace";
        r_.readString(m, p, "action", action);
        action = core::asciiLower(action);
        auto found = std::find_if(kActions.begin(), kActions.end(),
                                  [&](const auto& a) { return a.first == action; });
        if (found == kActions.end()) {
            std::vector<std::string_view> names;
            names.reserve(kActions.size());
            for (const auto& a : kActions) names.push_back(a.first);
            auto hint = didYouMean(action, names);
            r_.error(m["action"], p + ".action",
                     fmt::format("unknown action \"{}\"{}", action,
                                 hint.empty() ? "" : fmt::format(" (did you mean {}?)", hint)));
            return;
        }
        rule.action = found->second;
        rule.inputs = strings(m, p, "inputs");
        rule.email_rules = strings(m, p, "email_rules");
        if (!rule.email_rules.empty() && !rule.inputs.empty() &&
            std::none_of(rule.inputs.begin(), rule.inputs.end(),
                         [](const Located& l) { return l.value == "email"; })) {
            r_.error(m["email_rules"], p + ".email_rules",
                     "email_rules applies only to the email input, which inputs leaves out");
        }
        re2::RE2::Options opts;
        opts.set_log_errors(false);
        re2::RE2 re(rule.regex, opts);  // unanchored, so the error quotes the user's text
        if (!re.ok()) {
            r_.error(m["regex"], p + ".regex",
                     fmt::format("invalid regex \"{}\": {}", rule.regex, re.error()));
        }
        validateRelabel(m, p, rule);
        out.push_back(std::move(rule));
    }

    // The checks Prometheus makes of a relabel config, with its messages' substance.
    void validateRelabel(const YAML::Node& m, const std::string& p, const RelabelRule& r) {
        auto name = relabelActionName(r.action);
        auto at = [&](const char* key) { return m[key] ? m[key] : m; };
        bool needs_target =
            r.action == RelabelAction::kReplace || r.action == RelabelAction::kHashMod ||
            r.action == RelabelAction::kLowercase || r.action == RelabelAction::kUppercase ||
            r.action == RelabelAction::kKeepEqual || r.action == RelabelAction::kDropEqual;
        if (needs_target && r.target_label.empty()) {
            r_.error(m, p + ".target_label", fmt::format("the {} action needs target_label", name));
            return;
        }
        if (r.action == RelabelAction::kReplace && !isRelabelTarget(r.target_label)) {
            r_.error(at("target_label"), p + ".target_label",
                     fmt::format("\"{}\" is not a valid target_label for replace (a label name, "
                                 "which may use $1 or ${{name}})",
                                 r.target_label));
        }
        if (needs_target && r.action != RelabelAction::kReplace &&
            !core::isValidLabelName(r.target_label)) {
            r_.error(at("target_label"), p + ".target_label",
                     fmt::format("\"{}\" is not a valid label name for {}", r.target_label, name));
        }
        if (r.action == RelabelAction::kHashMod && r.modulus == 0) {
            r_.error(at("modulus"), p + ".modulus", "hashmod needs a modulus above zero");
        }
        if (r.action == RelabelAction::kLabelMap && !isRelabelTarget(r.replacement)) {
            r_.error(at("replacement"), p + ".replacement",
                     fmt::format("\"{}\" is not a valid replacement for labelmap", r.replacement));
        }
        if (r.action == RelabelAction::kKeepEqual || r.action == RelabelAction::kDropEqual) {
            for (const char* key : {"regex", "modulus", "separator", "replacement"}) {
                if (m[key]) {
                    r_.error(m[key], YamlReader::join(p, key),
                             fmt::format("the {} action takes only source_labels and "
                                         "target_label",
                                         name));
                }
            }
        }
        if (r.action == RelabelAction::kLabelDrop || r.action == RelabelAction::kLabelKeep) {
            for (const char* key :
                 {"source_labels", "target_label", "modulus", "separator", "replacement"}) {
                if (m[key]) {
                    r_.error(m[key], YamlReader::join(p, key),
                             fmt::format("the {} action takes only regex", name));
                }
            }
        }
        if (r.source_labels.empty() &&
            (r.action == RelabelAction::kKeep || r.action == RelabelAction::kDrop ||
             r.action == RelabelAction::kKeepEqual || r.action == RelabelAction::kDropEqual)) {
            r_.error(m, p + ".source_labels",
                     fmt::format("the {} action needs source_labels (without them it compares "
                                 "the empty string)",
                                 name));
        }
    }

    void table(const YAML::Node& m, const std::string& p, std::set<std::string>& names,
               std::vector<TableConfig>& out) {
        if (!r_.expectMap(m, p,
                          {"name", "source", "key_label", "key_column", "match", "columns", "set",
                           "default", "overwrite"})) {
            return;
        }
        TableConfig t;
        t.line = m.Mark().line + 1;
        r_.readString(m, p, "name", t.name, true);
        if (!t.name.empty() && !isTableName(t.name)) {
            r_.error(m["name"], p + ".name", "use letters, digits, '_' and '-'");
        } else if (!t.name.empty() && !names.insert(t.name).second) {
            r_.error(m["name"], p + ".name", fmt::format("duplicate table name \"{}\"", t.name));
        }
        if (m["source"]) {
            source(m["source"], p + ".source", t.source);
        } else {
            r_.error(m, p + ".source", "is required ({file: PATH} or {url: URL})");
        }
        r_.readString(m, p, "key_label", t.key_label, true);
        if (!t.key_label.empty() && !core::isValidLabelName(t.key_label)) {
            r_.error(m["key_label"], p + ".key_label", "is not a valid label name");
        }
        r_.readString(m, p, "key_column", t.key_column);
        r_.checkString(m, p, "match", [&](const std::string& v) -> std::string {
            if (v == "exact") {
                t.match = TableMatch::kExact;
            } else if (v == "cidr") {
                t.match = TableMatch::kCidr;
            } else {
                return fmt::format("must be exact or cidr, got \"{}\"", v);
            }
            return "";
        });
        if (const auto& c = m["columns"]; c && !c.IsNull()) {
            if (!c.IsMap()) {
                r_.error(c, p + ".columns", "expected a map of column: label");
            } else {
                for (auto it = c.begin(); it != c.end(); ++it) {
                    auto column = it->first.as<std::string>("");
                    std::string cp = YamlReader::join(p + ".columns", column);
                    if (!it->second.IsScalar() || !core::isValidLabelName(it->second.Scalar())) {
                        r_.error(it->second, cp, "expected a valid label name for the column");
                        continue;
                    }
                    t.columns.emplace_back(column, it->second.Scalar());
                }
            }
        }
        labelMap(m["set"], p + ".set", t.set);
        labelMap(m["default"], p + ".default", t.default_labels);
        r_.readBool(m, p, "overwrite", t.overwrite);
        if (!m["columns"] && !m["set"] && !m["default"]) {
            r_.error(m, p, "the table sets nothing: give columns, set or default");
        }
        out.push_back(std::move(t));
    }

    void source(const YAML::Node& s, const std::string& p, TableSource& src) {
        if (!r_.expectMap(s, p,
                          {"file", "url", "interval", "timeout", "basic_auth", "bearer_token",
                           "bearer_token_file", "ca_file", "format", "min_rows"})) {
            return;
        }
        r_.readString(s, p, "file", src.file);
        r_.readString(s, p, "url", src.url);
        r_.readSize(s, p, "min_rows", src.min_rows, 0, 100000000);
        if (src.file.empty() == src.url.empty()) {
            r_.error(s, p, "give exactly one of file and url");
            return;
        }
        bool remote_only = false;
        for (const char* key : {"interval", "timeout", "basic_auth", "bearer_token",
                                "bearer_token_file", "ca_file"}) {
            if (s[key] && !src.file.empty()) {
                r_.error(s[key], YamlReader::join(p, key), "applies to url sources only");
                remote_only = true;
            }
        }
        if (remote_only) return;
        if (!src.file.empty()) {
            fs::path path =
                fs::path(src.file).is_absolute() ? fs::path(src.file) : base_dir_ / src.file;
            src.file = path.string();
        } else {
            if (auto u = core::parseUrl(src.url); !u) r_.error(s["url"], p + ".url", u.error());
            r_.readDuration(s, p, "interval", src.interval, std::chrono::seconds(1));
            r_.readDuration(s, p, "timeout", src.timeout, std::chrono::milliseconds(100));
            auth_fields_(s, p, src.auth);
            r_.readString(s, p, "ca_file", src.ca_file);
            if (!src.ca_file.empty()) {
                fs::path path = fs::path(src.ca_file).is_absolute() ? fs::path(src.ca_file)
                                                                    : base_dir_ / src.ca_file;
                if (!fs::exists(path)) {
                    r_.error(s["ca_file"], p + ".ca_file",
                             fmt::format("cannot read \"{}\"", path.string()));
                }
                src.ca_file = path.string();
            }
        }
        r_.checkString(s, p, "format", [&](const std::string& v) -> std::string {
            if (v == "csv") {
                src.format = TableFormat::kCsv;
            } else if (v == "yaml") {
                src.format = TableFormat::kYaml;
            } else if (v == "json") {
                src.format = TableFormat::kJson;
            } else {
                return fmt::format("must be csv, yaml or json, got \"{}\"", v);
            }
            return "";
        });
    }

    void classify(const YAML::Node& m, const std::string& p, std::size_t index,
                  std::vector<ClassifyRule>& out) {
        if (!r_.expectMap(m, p, {"name", "matchers", "set"})) return;
        ClassifyRule c;
        c.line = m.Mark().line + 1;
        c.name = std::to_string(index);
        r_.readString(m, p, "name", c.name);
        for (const auto& l : strings(m, p, "matchers")) {
            auto parsed = core::parseMatchers(l.value);
            if (!parsed) {
                r_.error(m["matchers"], p + ".matchers",
                         fmt::format("line {}: {}", l.line, parsed.error()));
                continue;
            }
            for (auto& matcher : *parsed) c.matchers.push_back(std::move(matcher));
        }
        if (!m["matchers"]) r_.error(m, p + ".matchers", "is required");
        labelMap(m["set"], p + ".set", c.set);
        if (c.set.empty()) r_.error(m, p + ".set", "give at least one label to set");
        out.push_back(std::move(c));
    }

    YamlReader& r_;
    fs::path base_dir_;
    const AuthFieldsReader& auth_fields_;
};

}  // namespace

std::string_view relabelActionName(RelabelAction a) {
    for (const auto& [name, action] : kActions) {
        if (action == a) return name;
    }
    return "replace";
}

std::string_view tableFormatName(TableFormat f) {
    switch (f) {
        case TableFormat::kCsv:
            return "csv";
        case TableFormat::kYaml:
            return "yaml";
        case TableFormat::kJson:
            return "json";
        case TableFormat::kAuto:
            break;
    }
    return "auto";
}

void loadEnrich(YamlReader& r, const YAML::Node& n, const fs::path& base_dir,
                const AuthFieldsReader& auth_fields, EnrichConfig& out) {
    EnrichLoader(r, base_dir, auth_fields).load(n, out);
}

}  // namespace alertbridge::config
