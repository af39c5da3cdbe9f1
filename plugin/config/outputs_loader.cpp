#include "plugin/config/outputs_loader.hpp"

#include <cctype>
#include <limits>
#include <map>
#include <set>

#include <fmt/format.h>

namespace alertbridge::config {
namespace {

constexpr std::size_t kMiB = std::size_t{1024} * 1024;

// name, endpoint, timeout and backoff, shared by every output.
void common(YamlReader& r, const YAML::Node& o, const std::string& p, std::set<std::string>& names,
            std::string& name, std::string& endpoint_text, core::Url& endpoint, Duration& timeout,
            Backoff& backoff) {
    r.readString(o, p, "name", name, true);
    if (!name.empty() && !names.insert(name).second) {
        r.error(o["name"], p + ".name", fmt::format("duplicate output name \"{}\"", name));
    }
    r.readString(o, p, "endpoint", endpoint_text, true);
    if (!endpoint_text.empty()) {
        auto u = core::parseUrl(endpoint_text);
        if (!u) {
            r.error(o["endpoint"], p + ".endpoint", u.error());
        } else if (u->scheme == "https") {
            r.error(o["endpoint"], p + ".endpoint",
                    "https endpoints are not supported yet; use http on a trusted network "
                    "or a local TLS proxy");
        } else {
            endpoint = *u;
        }
    }
    r.readDuration(o, p, "timeout", timeout, std::chrono::milliseconds(100));
    auto b = o["backoff"];
    if (r.expectMap(b, p + ".backoff", {"initial", "max"})) {
        r.readDuration(b, p + ".backoff", "initial", backoff.initial,
                       std::chrono::milliseconds(10));
        r.readDuration(b, p + ".backoff", "max", backoff.max, std::chrono::milliseconds(10));
        if (backoff.max < backoff.initial) {
            r.error(b, p + ".backoff.max", "must not be less than backoff.initial");
        }
    }
}

// What is wrong with a Standard Webhooks signing key ("" when nothing).
std::string signingSecretProblem(std::string_view v) {
    std::string_view rest(v);
    if (rest.starts_with("whsec_")) rest.remove_prefix(6);
    bool base64 = !rest.empty() && rest.size() % 4 == 0;
    for (char c : rest) {
        base64 = base64 && (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' ||
                            c == '/' || c == '=');
    }
    return base64 ? "" : "must be whsec_ followed by the key in base64";
}

// Notification sinks: each notification POSTed once as an Alertmanager webhook body.
void loadWebhooks(YamlReader& r, const YAML::Node& list, const AuthFieldsReader& auth_fields,
                  const SecretFileReader& secret_file, std::set<std::string>& names,
                  std::vector<WebhookOutput>& out) {
    const std::string lp = "outputs.webhook";
    if (!r.expectSequence(list, lp)) return;
    for (std::size_t i = 0; i < list.size(); ++i) {
        auto o = list[i];
        std::string p = YamlReader::index(lp, i);
        if (!r.expectMap(o, p,
                         {"name", "endpoint", "basic_auth", "bearer_token", "bearer_token_file",
                          "timeout", "backoff", "max_alerts", "send_resolved", "max_backlog_bytes",
                          "signing_secret", "signing_secret_file"})) {
            if (!o.IsMap()) r.error(o, p, "expected a mapping with name and endpoint");
            continue;
        }
        WebhookOutput w;
        common(r, o, p, names, w.name, w.endpoint_text, w.endpoint, w.timeout, w.backoff);
        auth_fields(o, p, w.auth);
        r.readSize(o, p, "max_alerts", w.max_alerts, 0, 100000);
        r.readBool(o, p, "send_resolved", w.send_resolved);
        r.readSize(o, p, "max_backlog_bytes", w.max_backlog_bytes, kMiB,
                   std::numeric_limits<long long>::max());
        r.checkString(o, p, "signing_secret", signingSecretProblem);
        r.readString(o, p, "signing_secret", w.signing_secret);
        std::string file;
        r.readString(o, p, "signing_secret_file", file);
        if (!file.empty()) {
            const auto at = o["signing_secret_file"];
            const auto fp = YamlReader::join(p, "signing_secret_file");
            if (!w.signing_secret.empty()) {
                r.error(at, fp, "set signing_secret or signing_secret_file, not both");
            } else {
                secret_file(at, fp, file, w.signing_secret);
                if (auto problem = signingSecretProblem(w.signing_secret);
                    !w.signing_secret.empty() && !problem.empty()) {
                    r.error(at, fp, "the file's key " + problem);
                }
            }
        }
        out.push_back(std::move(w));
    }
}

}  // namespace

void loadOutputs(YamlReader& r, const YAML::Node& n, const AuthFieldsReader& auth_fields,
                 const SecretFileReader& secret_file, OutputsConfig& c) {
    if (!r.expectMap(n, "outputs", {"alertmanager", "nightingale", "webhook"})) return;
    std::set<std::string> names;  // unique across every output: metrics and outbox key
    auto list = n["alertmanager"];
    const std::string lp = "outputs.alertmanager";
    if (r.expectSequence(list, lp)) {
        for (std::size_t i = 0; i < list.size(); ++i) {
            auto o = list[i];
            std::string p = YamlReader::index(lp, i);
            if (!r.expectMap(o, p,
                             {"name", "endpoint", "basic_auth", "bearer_token", "bearer_token_file",
                              "resend_interval", "timeout", "max_alerts_per_push", "backoff",
                              "utf8_label_names", "max_backlog_bytes", "incident_alerts",
                              "member_alerts"})) {
                if (!o.IsMap()) r.error(o, p, "expected a mapping with name and endpoint");
                continue;
            }
            AlertmanagerOutput out;
            common(r, o, p, names, out.name, out.endpoint_text, out.endpoint, out.timeout,
                   out.backoff);
            auth_fields(o, p, out.auth);
            r.readDuration(o, p, "resend_interval", out.resend_interval, std::chrono::seconds(1));
            r.readSize(o, p, "max_alerts_per_push", out.max_alerts_per_push, 1, 100000);
            r.readBool(o, p, "utf8_label_names", out.utf8_label_names);
            r.readBool(o, p, "incident_alerts", out.incidents.incident_alerts);
            r.readBool(o, p, "member_alerts", out.incidents.member_alerts);
            r.readSize(o, p, "max_backlog_bytes", out.max_backlog_bytes, kMiB,
                       std::numeric_limits<long long>::max());
            c.alertmanager.push_back(std::move(out));
        }
    }
    loadWebhooks(r, n["webhook"], auth_fields, secret_file, names, c.webhook);
    auto n9e = n["nightingale"];
    const std::string np = "outputs.nightingale";
    if (!r.expectSequence(n9e, np)) return;
    for (std::size_t i = 0; i < n9e.size(); ++i) {
        auto o = n9e[i];
        std::string p = YamlReader::index(np, i);
        if (!r.expectMap(o, p,
                         {"name", "endpoint", "basic_auth", "version", "rule_id", "notify_rule_ids",
                          "notify_channels", "notify_groups", "group_id", "group_name", "timeout",
                          "backoff", "max_backlog_bytes", "incident_alerts", "member_alerts"})) {
            if (!o.IsMap()) r.error(o, p, "expected a mapping with name and endpoint");
            continue;
        }
        NightingaleOutput out;
        common(r, o, p, names, out.name, out.endpoint_text, out.endpoint, out.timeout, out.backoff);
        auth_fields(o, p, out.auth);
        r.checkString(o, p, "version", [&](const std::string& v) -> std::string {
            static const std::map<std::string, int> kVersions = {
                {"v6", 6}, {"v7", 7}, {"v8", 8}, {"v9", 9}};
            auto it = kVersions.find(v);
            if (it == kVersions.end()) return "must be v6, v7, v8 or v9, got \"" + v + "\"";
            out.version = it->second;
            return "";
        });
        std::size_t rule_id = 0;
        r.readSize(o, p, "rule_id", rule_id, 1, 1LL << 53);
        if (!o["rule_id"].IsDefined()) {
            r.error(o, p + ".rule_id",
                    "is required: the id of a dedicated, enabled placeholder rule");
        }
        out.rule_id = static_cast<long long>(rule_id);
        std::size_t group_id = 0;
        r.readSize(o, p, "group_id", group_id, 0, 1LL << 53);
        out.group_id = static_cast<long long>(group_id);
        r.readString(o, p, "group_name", out.group_name);
        r.readBool(o, p, "incident_alerts", out.incidents.incident_alerts);
        r.readBool(o, p, "member_alerts", out.incidents.member_alerts);
        r.readSize(o, p, "max_backlog_bytes", out.max_backlog_bytes, kMiB,
                   std::numeric_limits<long long>::max());
        r.readScalars(o, p, "notify_rule_ids", [&](const YAML::Node& v, const std::string& vp) {
            try {
                out.notify_rule_ids.push_back(v.as<long long>());
            } catch (const YAML::Exception&) {
                r.error(v, vp, "expected a notify rule id (a whole number)");
            }
        });
        r.readScalars(o, p, "notify_channels", [&](const YAML::Node& v, const std::string&) {
            out.notify_channels.push_back(v.Scalar());
        });
        r.readScalars(o, p, "notify_groups", [&](const YAML::Node& v, const std::string&) {
            out.notify_groups.push_back(v.Scalar());
        });
        // n9e v8+ still runs the legacy path for enabled rules: both would notify.
        for (const char* legacy : {"notify_channels", "notify_groups"}) {
            if (out.version >= 8 && o[legacy].IsDefined()) {
                r.error(o[legacy], YamlReader::join(p, legacy),
                        "is for n9e v6/v7; with v8+ it notifies a second time beside "
                        "notify_rule_ids. Use notify_rule_ids");
            }
        }
        if (out.version < 8 && o["notify_rule_ids"].IsDefined()) {
            r.error(o["notify_rule_ids"], p + ".notify_rule_ids",
                    "notify rules exist from n9e v8 on; use notify_channels and "
                    "notify_groups with v6/v7");
        }
        c.nightingale.push_back(std::move(out));
    }
}

}  // namespace alertbridge::config
