#include "plugin/config/noise_loader.hpp"

#include <fstream>
#include <set>
#include <sstream>

#include <date/tz.h>
#include <fmt/format.h>

#include "plugin/core/time.hpp"

namespace alertbridge::config {
namespace {

namespace fs = std::filesystem;

int lineOf(const YAML::Node& n) {
    return n.IsDefined() && n.Mark().line >= 0 ? n.Mark().line + 1 : 0;
}

// A list of scalars at `key` (absent: empty).
std::vector<Located> scalars(YamlReader& r, const YAML::Node& m, const std::string& p,
                             const char* key) {
    std::vector<Located> out;
    r.readScalars(m, p, key, [&](const YAML::Node& v, const std::string&) {
        out.push_back(Located{v.Scalar(), lineOf(v)});
    });
    return out;
}

std::vector<std::string> names(YamlReader& r, const YAML::Node& m, const std::string& p,
                               const char* key, bool label_names) {
    std::vector<std::string> out;
    for (auto& l : scalars(r, m, p, key)) {
        if (label_names && !core::isValidLabelName(l.value)) {
            r.errorAt(l.line, YamlReader::join(p, key),
                      fmt::format("\"{}\" is not a valid label name", l.value));
            continue;
        }
        out.push_back(std::move(l.value));
    }
    return out;
}

// Matcher strings as Alertmanager writes them; each may hold several (`a="1", b=~"x"`).
std::vector<core::Matcher> matchers(YamlReader& r, const YAML::Node& m, const std::string& p,
                                    const char* key) {
    std::vector<core::Matcher> out;
    for (const auto& l : scalars(r, m, p, key)) {
        auto parsed = core::parseMatchers(l.value);
        if (!parsed) {
            r.errorAt(l.line, YamlReader::join(p, key), parsed.error());
            continue;
        }
        for (auto& one : *parsed) out.push_back(std::move(one));
    }
    return out;
}

void times(YamlReader& r, const YAML::Node& m, const std::string& p, RuleTimes& out) {
    out.active_time_intervals = names(r, m, p, "active_time_intervals", false);
    out.mute_time_intervals = names(r, m, p, "mute_time_intervals", false);
}

std::string ruleName(YamlReader& r, const YAML::Node& m, const std::string& p,
                     std::set<std::string>& seen, const std::string& fallback) {
    std::string name = fallback;
    r.readString(m, p, "name", name);
    if (!seen.insert(name).second) {
        r.error(m["name"] ? m["name"] : m, p + ".name",
                fmt::format("\"{}\" is used twice; rule names must be unique", name));
    }
    return name;
}

void maintenanceWindow(YamlReader& r, const YAML::Node& m, const std::string& p,
                       std::vector<MaintenanceWindow>& out) {
    // Descriptive keys a change calendar's export may carry are read past.
    if (!r.expectMap(m, p,
                     {"name", "start", "end", "matchers", "title", "comment", "description", "id",
                      "ticket", "owner", "scope", "t0", "t1"})) {
        if (!m.IsDefined() || m.IsNull()) r.error(m, p, "expected {name, start, end, matchers}");
        return;
    }
    MaintenanceWindow w;
    w.file = r.file();
    w.line = lineOf(m);
    r.readString(m, p, "name", w.name, true);
    auto when = [&](const char* key, core::TimePoint& t) {
        std::string s;
        r.readString(m, p, key, s, true);
        if (s.empty()) return false;
        auto parsed = core::parseRfc3339(s);
        if (!parsed) {
            r.error(m[key], YamlReader::join(p, key), parsed.error());
            return false;
        }
        t = *parsed;
        return true;
    };
    bool ok = when("start", w.start);
    ok = when("end", w.end) && ok;
    if (ok && w.end <= w.start) r.error(m["end"], p + ".end", "must be after start");
    w.matchers = matchers(r, m, p, "matchers");
    if (w.matchers.empty()) {
        r.error(m, p + ".matchers",
                "give at least one matcher (a window over every alert would hide everything)");
    }
    out.push_back(std::move(w));
}

class NoiseLoader {
  public:
    NoiseLoader(YamlReader& r, fs::path base_dir, std::vector<ConfigError>& errors)
        : r_(r), base_dir_(std::move(base_dir)), errors_(errors) {}

    void load(const YAML::Node& n, NoiseConfig& c) {
        const std::string p = "noise";
        if (!r_.expectMap(n, p,
                          {"group_by", "group_wait", "group_interval", "repeat_interval",
                           "resolve_wait", "release_wait", "topology", "storms", "flapping",
                           "maintenance_windows", "maintenance_windows_file", "suppress",
                           "inhibit_rules", "policy", "default_action", "digests"})) {
            return;
        }
        c.enabled = true;
        c.line = lineOf(n);
        c.group_by = names(r_, n, p, "group_by", true);
        r_.readDuration(n, p, "group_wait", c.group_wait);
        r_.readDuration(n, p, "group_interval", c.group_interval, std::chrono::seconds(1));
        r_.readDuration(n, p, "repeat_interval", c.repeat_interval, std::chrono::minutes(1));
        r_.readDuration(n, p, "resolve_wait", c.resolve_wait);
        r_.readDuration(n, p, "release_wait", c.release_wait);
        topology(n["topology"], p + ".topology", c);
        list(n, p, "storms", [&](const YAML::Node& m, const std::string& q, std::size_t i) {
            storm(m, q, i, c.storms);
        });
        flapping(n["flapping"], p + ".flapping", c.flapping);
        list(n, p, "maintenance_windows",
             [&](const YAML::Node& m, const std::string& q, std::size_t) {
                 maintenanceWindow(r_, m, q, c.maintenance_windows);
             });
        std::string file;
        r_.readString(n, p, "maintenance_windows_file", file);
        if (!file.empty()) {
            fs::path path(file);
            if (path.is_relative()) path = base_dir_ / path;
            c.maintenance_windows_file = path.string();
            loadMaintenanceFile(c.maintenance_windows_file, errors_, c.maintenance_windows);
        }
        list(n, p, "suppress", [&](const YAML::Node& m, const std::string& q, std::size_t i) {
            suppress(m, q, i, c.suppress);
        });
        list(n, p, "inhibit_rules", [&](const YAML::Node& m, const std::string& q, std::size_t i) {
            inhibit(m, q, i, c.inhibit_rules);
        });
        list(n, p, "digests", [&](const YAML::Node& m, const std::string& q, std::size_t i) {
            digest(m, q, i, c.digests);
        });
        list(n, p, "policy", [&](const YAML::Node& m, const std::string& q, std::size_t i) {
            policy(m, q, i, c.policy);
        });
        std::string def;
        r_.readString(n, p, "default_action", def);
        if (!def.empty()) {
            if (auto a = action(def)) {
                c.default_action = *a;
            } else {
                r_.error(n["default_action"], p + ".default_action",
                         fmt::format("must be page, digest or record, got \"{}\"", def));
            }
        }
        bool wants_digest = c.default_action == PolicyAction::kDigest;
        for (const auto& pr : c.policy) wants_digest |= pr.action == PolicyAction::kDigest;
        if (wants_digest && c.digests.empty()) c.digests.push_back(DigestDef{"daily"});
    }

  private:
    template <class Fn>
    void list(const YAML::Node& n, const std::string& p, const char* key, Fn fn) {
        auto l = n[key];
        std::string lp = YamlReader::join(p, key);
        if (!r_.expectSequence(l, lp)) return;
        for (std::size_t i = 0; i < l.size(); ++i) fn(l[i], YamlReader::index(lp, i), i);
    }

    static std::optional<PolicyAction> action(const std::string& s) {
        if (s == "page") return PolicyAction::kPage;
        if (s == "digest") return PolicyAction::kDigest;
        if (s == "record") return PolicyAction::kRecord;
        return std::nullopt;
    }

    void topology(const YAML::Node& n, const std::string& p, NoiseConfig& c) {
        if (!r_.expectMap(n, p, {"window", "parents"})) return;
        r_.readDuration(n, p, "window", c.topology_window, std::chrono::seconds(1));
        std::set<std::string> seen;
        list(n, p, "parents", [&](const YAML::Node& m, const std::string& q, std::size_t i) {
            if (!r_.expectMap(m, q, {"name", "labels", "matchers", "separator"})) return;
            ParentDef d;
            d.line = lineOf(m);
            d.name = ruleName(r_, m, q, seen, fmt::format("parent_{}", i));
            d.labels = names(r_, m, q, "labels", true);
            if (d.labels.empty()) r_.error(m, q + ".labels", "give at least one label");
            d.matchers = matchers(r_, m, q, "matchers");
            r_.readString(m, q, "separator", d.separator);
            c.parents.push_back(std::move(d));
        });
    }

    void storm(const YAML::Node& m, const std::string& q, std::size_t i,
               std::vector<StormRule>& out) {
        if (!r_.expectMap(m, q,
                          {"name", "scope", "threshold", "window", "matchers",
                           "active_time_intervals", "mute_time_intervals"})) {
            return;
        }
        StormRule s;
        s.line = lineOf(m);
        s.name = ruleName(r_, m, q, storm_names_, fmt::format("storm_{}", i));
        s.scope = names(r_, m, q, "scope", true);
        r_.readSize(m, q, "threshold", s.threshold, 2, 1000000);
        r_.readDuration(m, q, "window", s.window, std::chrono::seconds(1));
        s.matchers = matchers(r_, m, q, "matchers");
        times(r_, m, q, s.times);
        out.push_back(std::move(s));
    }

    void flapping(const YAML::Node& n, const std::string& p, FlappingConfig& f) {
        if (!r_.expectMap(n, p, {"threshold", "window", "settle"})) return;
        r_.readSize(n, p, "threshold", f.threshold, 2, 1000);
        if (f.threshold == 0) f.threshold = 4;
        r_.readDuration(n, p, "window", f.window, std::chrono::seconds(1));
        r_.readDuration(n, p, "settle", f.settle);
    }

    void suppress(const YAML::Node& m, const std::string& q, std::size_t i,
                  std::vector<SuppressRule>& out) {
        if (!r_.expectMap(m, q,
                          {"name", "matchers", "active_time_intervals", "mute_time_intervals"})) {
            return;
        }
        SuppressRule s;
        s.line = lineOf(m);
        s.name = ruleName(r_, m, q, suppress_names_, fmt::format("suppress_{}", i));
        s.matchers = matchers(r_, m, q, "matchers");
        if (s.matchers.empty()) r_.error(m, q + ".matchers", "give at least one matcher");
        times(r_, m, q, s.times);
        out.push_back(std::move(s));
    }

    void inhibit(const YAML::Node& m, const std::string& q, std::size_t i,
                 std::vector<InhibitRule>& out) {
        if (!r_.expectMap(m, q,
                          {"name", "source_matchers", "target_matchers", "equal",
                           "active_time_intervals", "mute_time_intervals"})) {
            return;
        }
        InhibitRule ir;
        ir.line = lineOf(m);
        ir.name = ruleName(r_, m, q, inhibit_names_, fmt::format("inhibit_{}", i));
        ir.source_matchers = matchers(r_, m, q, "source_matchers");
        ir.target_matchers = matchers(r_, m, q, "target_matchers");
        if (ir.source_matchers.empty() || ir.target_matchers.empty()) {
            r_.error(m, q, "give source_matchers and target_matchers");
        }
        ir.equal = names(r_, m, q, "equal", true);
        times(r_, m, q, ir.times);
        out.push_back(std::move(ir));
    }

    void digest(const YAML::Node& m, const std::string& q, std::size_t i,
                std::vector<DigestDef>& out) {
        if (!r_.expectMap(m, q, {"name", "group_by", "interval", "offset", "location"})) return;
        DigestDef d;
        d.line = lineOf(m);
        d.name = ruleName(r_, m, q, digest_names_, fmt::format("digest_{}", i));
        if (m["group_by"]) d.group_by = names(r_, m, q, "group_by", true);
        r_.readDuration(m, q, "interval", d.interval, std::chrono::minutes(1));
        r_.readDuration(m, q, "offset", d.offset);
        if (d.offset >= d.interval) r_.error(m["offset"], q + ".offset", "must be below interval");
        r_.checkString(m, q, "location", [&](const std::string& v) -> std::string {
            try {
                d.zone = date::locate_zone(v);
                d.location = v;
            } catch (const std::exception&) {
                return fmt::format("unknown time zone \"{}\"", v);
            }
            if (std::chrono::hours(24) % d.interval != core::Duration::zero()) {
                return "with a location, interval must divide a day (such as 1h, 6h, 12h, 24h)";
            }
            return "";
        });
        out.push_back(std::move(d));
    }

    void policy(const YAML::Node& m, const std::string& q, std::size_t i,
                std::vector<PolicyRule>& out) {
        if (!r_.expectMap(m, q,
                          {"name", "matchers", "action", "receiver", "digest",
                           "active_time_intervals", "mute_time_intervals"})) {
            return;
        }
        PolicyRule pr;
        pr.line = lineOf(m);
        pr.name = ruleName(r_, m, q, policy_names_, fmt::format("policy_{}", i));
        pr.matchers = matchers(r_, m, q, "matchers");
        std::string a;
        r_.readString(m, q, "action", a, true);
        if (auto parsed = action(a)) {
            pr.action = *parsed;
        } else if (!a.empty()) {
            r_.error(m["action"], q + ".action",
                     fmt::format("must be page, digest or record, got \"{}\"", a));
        }
        pr.receiver = "oncall";
        r_.readString(m, q, "receiver", pr.receiver);
        r_.readString(m, q, "digest", pr.digest);
        times(r_, m, q, pr.times);
        out.push_back(std::move(pr));
    }

    YamlReader& r_;
    fs::path base_dir_;
    std::vector<ConfigError>& errors_;
    std::set<std::string> storm_names_, suppress_names_, inhibit_names_, digest_names_,
        policy_names_;
};

void checkTimes(YamlReader& r, const Config& c, const RuleTimes& t, const std::string& rule,
                int line) {
    auto known = [&](const std::string& n) {
        for (const auto& ti : c.time_intervals) {
            if (ti.name == n) return true;
        }
        return false;
    };
    for (const auto* list : {&t.active_time_intervals, &t.mute_time_intervals}) {
        for (const auto& n : *list) {
            if (!known(n)) {
                r.errorAt(line, "noise." + rule,
                          fmt::format("time interval \"{}\" is not defined in time_intervals", n));
            }
        }
    }
}

}  // namespace

void loadNoise(YamlReader& r, const YAML::Node& n, const fs::path& base_dir,
               std::vector<ConfigError>& errors, NoiseConfig& out) {
    NoiseLoader(r, base_dir, errors).load(n, out);
}

void loadMaintenanceFile(const std::string& path, std::vector<ConfigError>& errors,
                         std::vector<MaintenanceWindow>& out) {
    std::ifstream in(path);
    if (!in) {
        errors.push_back(ConfigError{path, 0, "", "cannot open the maintenance windows file"});
        return;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    YAML::Node root;
    try {
        root = YAML::Load(ss.str());
    } catch (const YAML::Exception& e) {
        errors.push_back(ConfigError{path, e.mark.line < 0 ? 0 : e.mark.line + 1, "", e.msg});
        return;
    }
    if (!root.IsDefined() || root.IsNull()) return;  // an empty calendar: no windows
    YamlReader r(path, errors);
    // A list of windows; also taken under a `maintenance_windows:` key. One change may be
    // several windows of the same name (one per scope), so names need not be unique.
    std::string base;
    if (root.IsMap() && root["maintenance_windows"]) {
        if (!r.expectMap(root, "", {"maintenance_windows"})) return;
        root = root["maintenance_windows"];
        base = "maintenance_windows";
        if (root.IsNull()) return;
    }
    if (!r.expectSequence(root, base)) return;
    for (std::size_t i = 0; i < root.size(); ++i) {
        maintenanceWindow(r, root[i], YamlReader::index(base, i), out);
    }
}

void checkNoiseReferences(YamlReader& r, const Config& c) {
    const auto& n = c.noise;
    for (const auto& s : n.storms) checkTimes(r, c, s.times, "storms." + s.name, s.line);
    for (const auto& s : n.suppress) checkTimes(r, c, s.times, "suppress." + s.name, s.line);
    for (const auto& s : n.inhibit_rules) {
        checkTimes(r, c, s.times, "inhibit_rules." + s.name, s.line);
    }
    for (const auto& s : n.policy) {
        checkTimes(r, c, s.times, "policy." + s.name, s.line);
        if (s.digest.empty()) continue;
        bool found = false;
        for (const auto& d : n.digests) found |= d.name == s.digest;
        if (!found) {
            r.errorAt(s.line, "noise.policy." + s.name + ".digest",
                      fmt::format("digest \"{}\" is not defined in noise.digests", s.digest));
        }
    }
}

}  // namespace alertbridge::config
