#include "plugin/config/loader.hpp"

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <limits>
#include <set>
#include <sstream>

#include <date/tz.h>
#include <fmt/format.h>

#include "plugin/config/calendar_loader.hpp"
#include "plugin/config/email_loader.hpp"
#include "plugin/config/enrich_loader.hpp"
#include "plugin/config/interval_loader.hpp"
#include "plugin/config/noise_loader.hpp"
#include "plugin/config/outputs_loader.hpp"
#include "plugin/core/label_set.hpp"

namespace alertbridge::config {

constexpr std::size_t kMiB = std::size_t{1024} * 1024;
namespace {

namespace fs = std::filesystem;

class Loader {
  public:
    Loader(const std::string& file, std::vector<ConfigError>& errors,
           std::vector<ConfigError>& warnings)
        : r_(file, errors),
          base_dir_(fs::path(file).parent_path()),
          errors_(errors),
          warnings_(warnings) {}

    void load(const YAML::Node& root, Config& c) {
        if (!root.IsDefined() || root.IsNull()) {
            r_.error(root, "", "the file is empty");
            return;
        }
        if (!r_.expectMap(root, "",
                          {"global", "listen", "http_auth", "intake", "storage", "outputs", "email",
                           "normalize", "enrich", "log", "calendars", "time_intervals", "noise"})) {
            return;
        }
        global(root["global"], c.global);
        listen(root["listen"], c.listen);
        auth(root["http_auth"], "http_auth", c.http_auth);
        intake(root["intake"], c.intake);
        storage(root["storage"], c.storage);
        loadOutputs(
            r_, root["outputs"],
            [this](const YAML::Node& n, const std::string& p, Auth& a) { authFields(n, p, a); },
            [this](const YAML::Node& at, const std::string& p, const std::string& file,
                   std::string& out) { readSecret(at, p, file, out); },
            c.outputs);
        loadEmail(
            r_, root["email"], base_dir_,
            [this](const YAML::Node& n, const std::string& p, std::string& out) {
                readPassword(n, p, out);
            },
            c.email);
        normalize(root["normalize"], c.normalize);
        loadEnrich(
            r_, root["enrich"], base_dir_,
            [this](const YAML::Node& n, const std::string& p, Auth& a) { authFields(n, p, a); },
            c.enrich);
        log(root["log"], c.log);
        loadCalendars(r_, root["calendars"], base_dir_, errors_, warnings_, c.calendars);
        checkCalendarNames(r_, c);
        loadTimeIntervals(r_, root["time_intervals"], c.time_intervals);
        checkIntervalCalendars(r_, c);
        loadNoise(r_, root["noise"], base_dir_, errors_, c.noise);
        checkNoiseReferences(r_, c);
    }

  private:
    void global(const YAML::Node& n, GlobalConfig& g) {
        const std::string p = "global";
        if (!r_.expectMap(n, p,
                          {"instance", "data_dir", "timezone", "marker_label", "external_url",
                           "resolve_timeout"})) {
            return;
        }
        r_.readString(n, p, "instance", g.instance);
        if (g.instance.empty()) r_.error(n["instance"], p + ".instance", "must not be empty");
        r_.readString(n, p, "data_dir", g.data_dir);
        if (g.data_dir.empty()) r_.error(n["data_dir"], p + ".data_dir", "must not be empty");
        r_.checkString(n, p, "timezone", [&](const std::string& tz) -> std::string {
            try {
                date::locate_zone(tz);
                g.timezone = tz;
                return "";
            } catch (const std::exception&) {
                return fmt::format(
                    "unknown time zone \"{}\" (use an IANA name such as "
                    "Asia/Shanghai)",
                    tz);
            }
        });
        r_.checkString(n, p, "marker_label", [&](const std::string& v) -> std::string {
            if (!core::isValidLabelName(v)) {
                return fmt::format("\"{}\" is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)", v);
            }
            g.marker_label = v;
            return "";
        });
        r_.checkString(n, p, "external_url", [&](const std::string& v) -> std::string {
            auto u = core::parseUrl(v);
            if (!u) return u.error();
            g.external_url = v;
            return "";
        });
        r_.readDuration(n, p, "resolve_timeout", g.resolve_timeout, std::chrono::seconds(1));
    }

    void listen(const YAML::Node& n, ListenConfig& l) {
        if (!r_.expectMap(n, "listen", {"http", "smtp"})) return;
        r_.checkString(n, "listen", "smtp", [&](const std::string& v) -> std::string {
            auto hp = core::parseHostPort(v);
            if (!hp) return hp.error();
            l.smtp = *hp;
            return "";
        });
        r_.checkString(n, "listen", "http", [&](const std::string& v) -> std::string {
            auto hp = core::parseHostPort(v);
            if (!hp) return hp.error();
            l.http = *hp;
            return "";
        });
    }

    void auth(const YAML::Node& n, const std::string& p, Auth& a) {
        if (!r_.expectMap(n, p, {"basic_auth", "bearer_token", "bearer_token_file"})) return;
        authFields(n, p, a);
    }

    // Reads the credential keys of a map whose unknown keys were already checked.
    void authFields(const YAML::Node& n, const std::string& p, Auth& a) {
        auto b = n["basic_auth"];
        std::string bp = p + ".basic_auth";
        if (r_.expectMap(b, bp, {"username", "password", "password_file"})) {
            BasicAuth ba;
            r_.readString(b, bp, "username", ba.username, true);
            readPassword(b, bp, ba.password);
            a.basic_auth = ba;
        }
        r_.readString(n, p, "bearer_token", a.bearer_token);
        std::string token_file;
        r_.readString(n, p, "bearer_token_file", token_file);
        if (!token_file.empty()) {
            if (!a.bearer_token.empty()) {
                r_.error(n["bearer_token_file"], p + ".bearer_token_file",
                         "set bearer_token or bearer_token_file, not both");
            } else {
                readSecret(n["bearer_token_file"], p + ".bearer_token_file", token_file,
                           a.bearer_token);
            }
        }
        if (a.basic_auth && !a.bearer_token.empty()) {
            r_.error(n, p, "set basic_auth or a bearer token, not both");
        }
    }

    // `password` or `password_file` (read now), exactly one of them.
    void readPassword(const YAML::Node& m, const std::string& p, std::string& out) {
        std::string file;
        r_.readString(m, p, "password", out);
        r_.readString(m, p, "password_file", file);
        if (!file.empty() && !out.empty()) {
            r_.error(m["password_file"], p + ".password_file",
                     "set password or password_file, not both");
        } else if (!file.empty()) {
            readSecret(m["password_file"], p + ".password_file", file, out);
        } else if (out.empty()) {
            r_.error(m, p + ".password", "is required (or password_file)");
        }
    }

    void readSecret(const YAML::Node& at, const std::string& p, const std::string& file,
                    std::string& out) {
        fs::path path = fs::path(file).is_absolute() ? fs::path(file) : base_dir_ / file;
        std::ifstream in(path);
        if (!in) {
            r_.error(at, p, fmt::format("cannot read \"{}\"", path.string()));
            return;
        }
        std::stringstream ss;
        ss << in.rdbuf();
        out = ss.str();
        while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
        if (out.empty()) r_.error(at, p, fmt::format("\"{}\" is empty", path.string()));
    }

    void intake(const YAML::Node& n, IntakeConfig& i) {
        const std::string p = "intake";
        if (!r_.expectMap(
                n, p,
                {"queue_capacity", "queue_max_bytes", "max_body_bytes", "max_alerts_per_request",
                 "max_connections", "request_timeout", "label_names"})) {
            return;
        }
        r_.readSize(n, p, "queue_capacity", i.queue_capacity, 1, 100000000);
        r_.readSize(n, p, "queue_max_bytes", i.queue_max_bytes, kMiB, 64 * kMiB * 1024);
        r_.readSize(n, p, "max_body_bytes", i.max_body_bytes, 1024, 1024LL * 1024 * 1024);
        r_.readSize(n, p, "max_alerts_per_request", i.max_alerts_per_request, 1, 1000000);
        r_.readSize(n, p, "max_connections", i.max_connections, 1, 1000000);
        r_.readDuration(n, p, "request_timeout", i.request_timeout, std::chrono::seconds(1));
        r_.checkString(n, p, "label_names", [&](const std::string& v) -> std::string {
            if (v == "utf8") {
                i.label_names = core::LabelNames::kUtf8;
            } else if (v == "legacy") {
                i.label_names = core::LabelNames::kLegacy;
            } else {
                return fmt::format("must be utf8 or legacy, got \"{}\"", v);
            }
            return "";
        });
        if (i.queue_max_bytes < i.max_body_bytes) {
            r_.error(n["queue_max_bytes"], p + ".queue_max_bytes",
                     fmt::format("must be at least max_body_bytes ({}), or no request of that "
                                 "size could ever be queued",
                                 i.max_body_bytes));
        }
    }

    void storage(const YAML::Node& n, StorageConfig& s) {
        const std::string p = "storage";
        if (!r_.expectMap(
                n, p,
                {"synchronous", "journal_retention", "outbox_retention",
                 "notification_log_retention", "cache_mib", "checkpoint_interval", "max_bytes"})) {
            return;
        }
        r_.checkString(n, p, "synchronous", [&](const std::string& v) -> std::string {
            if (v == "full") {
                s.synchronous_full = true;
            } else if (v == "normal") {
                s.synchronous_full = false;
            } else {
                return fmt::format("must be full or normal, got \"{}\"", v);
            }
            return "";
        });
        r_.readDuration(n, p, "journal_retention", s.journal_retention);
        r_.readDuration(n, p, "outbox_retention", s.outbox_retention);
        r_.readDuration(n, p, "notification_log_retention", s.notification_log_retention,
                        std::chrono::minutes(1));
        r_.readSize(n, p, "cache_mib", s.cache_mib, 1, 65536);
        r_.readSize(n, p, "max_bytes", s.max_bytes, 0, std::numeric_limits<long long>::max());
        if (s.max_bytes > 0 && s.max_bytes < kMiB) {
            r_.error(n["max_bytes"], p + ".max_bytes", "must be 0 (no bound) or at least 1048576");
        }
        r_.readDuration(n, p, "checkpoint_interval", s.checkpoint_interval,
                        std::chrono::milliseconds(100));
    }

    void normalize(const YAML::Node& n, NormalizeConfig& nc) {
        const std::string p = "normalize";
        if (!r_.expectMap(n, p,
                          {"severity_label", "severity_map", "default_severity", "source_label"})) {
            return;
        }
        r_.readString(n, p, "severity_label", nc.severity_label);
        if (!core::isValidLabelName(nc.severity_label)) {
            r_.error(n["severity_label"], p + ".severity_label", "is not a valid label name");
        }
        r_.checkString(n, p, "default_severity", [&](const std::string& v) -> std::string {
            if (!core::parseSeverityName(v, nc.default_severity)) {
                return fmt::format("must be critical, warning or info, got \"{}\"", v);
            }
            return "";
        });
        r_.readString(n, p, "source_label", nc.source_label);
        if (!nc.source_label.empty() && !core::isValidLabelName(nc.source_label)) {
            r_.error(n["source_label"], p + ".source_label", "is not a valid label name");
        }
        auto m = n["severity_map"];
        const std::string mp = p + ".severity_map";
        if (!r_.expectMap(m, mp, {"critical", "warning", "info"})) return;
        for (auto it = m.begin(); it != m.end(); ++it) {
            core::Severity level{};
            auto name = it->first.as<std::string>("");
            if (!core::parseSeverityName(name, level)) continue;  // reported by expectMap
            std::string wp = YamlReader::join(mp, name);
            if (!r_.expectSequence(it->second, wp)) continue;
            for (std::size_t i = 0; i < it->second.size(); ++i) {
                auto w = it->second[i];
                if (!w.IsScalar() || w.Scalar().empty()) {
                    r_.error(w, YamlReader::index(wp, i), "expected a non-empty word");
                    continue;
                }
                nc.severity_map.add(w.Scalar(), level);
            }
        }
    }

    void log(const YAML::Node& n, LogConfig& l) {
        if (!r_.expectMap(n, "log", {"level"})) return;
        r_.checkString(n, "log", "level", [&](const std::string& v) -> std::string {
            if (v != "debug" && v != "info" && v != "warn" && v != "error") {
                return fmt::format("must be debug, info, warn or error, got \"{}\"", v);
            }
            l.level = v;
            return "";
        });
    }

    YamlReader r_;
    fs::path base_dir_;
    std::vector<ConfigError>& errors_;
    std::vector<ConfigError>& warnings_;
};

}  // namespace

LoadResult loadConfigFromString(const std::string& yaml, const std::string& file_name) {
    LoadResult result;
    Config c;
    c.file = file_name;
    YAML::Node root;
    try {
        root = YAML::Load(yaml);
    } catch (const YAML::Exception& e) {
        result.errors.push_back(
            ConfigError{file_name, e.mark.line < 0 ? 0 : e.mark.line + 1, "", e.msg});
        return result;
    }
    Loader loader(file_name, result.errors, result.warnings);
    loader.load(root, c);
    if (result.errors.empty()) result.config = std::move(c);
    return result;
}

LoadResult loadConfig(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        LoadResult r;
        r.errors.push_back(ConfigError{path, 0, "", "cannot open the file"});
        return r;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return loadConfigFromString(ss.str(), path);
}

}  // namespace alertbridge::config
