#pragma once
// Config: the typed form of alertbridge.yml. Built once by loadConfig(), then read-only and
// shared by const reference. Every key is documented in config-examples/full.yml.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "plugin/calendar/intervals.hpp"
#include "plugin/calendar/types.hpp"
#include "plugin/config/noise_config.hpp"
#include "plugin/core/cidr.hpp"
#include "plugin/core/clock.hpp"
#include "plugin/core/label_set.hpp"
#include "plugin/core/matcher.hpp"
#include "plugin/core/severity.hpp"
#include "plugin/core/url.hpp"

namespace alertbridge::config {

using core::Duration;

struct BasicAuth {
    std::string username;
    std::string password;  // read from password_file at load time when that is given
};

// Credentials for a peer: at most one of basic auth and a bearer token.
struct Auth {
    std::optional<BasicAuth> basic_auth;
    std::string bearer_token;
    bool enabled() const { return basic_auth.has_value() || !bearer_token.empty(); }
};

struct GlobalConfig {
    std::string instance = "alertbridge";
    std::string data_dir = "./data";
    std::string timezone = "Asia/Shanghai";
    std::string marker_label = "alertbridge_origin";
    std::string external_url;
    Duration resolve_timeout = std::chrono::minutes(5);
};

struct ListenConfig {
    core::HostPort http{"127.0.0.1", 9095};
    std::optional<core::HostPort> smtp;  // unset: no SMTP listener
};

// A value from the config with the line it came from, for errors found after loading.
struct Located {
    std::string value;
    int line = 0;
};

struct ImapMailbox {
    std::string name;
    std::string endpoint;  // imap://host:143 or imaps://host:993
    std::string username;
    std::string password;  // read from password_file at load time when that is given
    std::string mailbox = "INBOX";
    Duration poll_interval = std::chrono::seconds(15);
    std::string move_to;  // empty: mark_seen
    std::string ca_file;  // for imaps://; empty: the system's CAs
};

struct EmailConfig {
    std::size_t max_message_bytes = std::size_t{32} * 1024 * 1024;
    std::size_t max_recipients = 100;
    std::size_t max_connections = 100;
    Duration command_timeout = std::chrono::minutes(5);
    // "ops@alerts.example" or "@alerts.example"; empty: every recipient is accepted.
    std::vector<std::string> accept_recipients;
    // Clients that may connect (CIDR prefixes); others get 554. Empty: any client.
    std::vector<core::Cidr> allowed_clients;
    Duration generic_resolve_timeout = std::chrono::hours(4);
    Duration retention = std::chrono::hours(24 * 7);  // how long received emails are kept
    std::vector<ImapMailbox> imap;
    std::string tls_cert_file;  // both set: STARTTLS is offered (paths resolved)
    std::string tls_key_file;
    std::vector<BasicAuth> auth_users;            // AUTH PLAIN/LOGIN, over TLS only
    bool auth_required = false;                   // MAIL needs AUTH first
    std::vector<Located> rule_files;              // users' rule packs, paths resolved
    std::vector<Located> disabled_builtin_rules;  // built-in pack names not to use
};

struct IntakeConfig {
    std::size_t queue_capacity = 200000;  // alerts accepted but not yet processed
    // Bytes held for accepted requests and emails not yet processed (bodies and their
    // decoded alerts); past it HTTP answers 503 and SMTP 452.
    std::size_t queue_max_bytes = std::size_t{256} * 1024 * 1024;
    std::size_t max_body_bytes = std::size_t{16} * 1024 * 1024;
    std::size_t max_alerts_per_request = 20000;
    std::size_t max_connections = 1024;  // open HTTP connections; past it a new one gets 503
    // A whole request must arrive within this (and an idle kept-alive connection is closed
    // after it): slow clients are cut off instead of holding a connection.
    Duration request_timeout = std::chrono::seconds(60);
    core::LabelNames label_names = core::LabelNames::kUtf8;
};

struct StorageConfig {
    bool synchronous_full = true;  // fsync every commit; "normal" survives crashes, not power loss
    Duration journal_retention = std::chrono::hours(1);
    Duration outbox_retention = std::chrono::hours(24);
    // How long the notification log keeps what was sent (repeat intervals, MTTA).
    Duration notification_log_retention = std::chrono::hours(120);
    std::size_t cache_mib = 8;
    Duration checkpoint_interval = std::chrono::seconds(5);
    std::size_t max_bytes = 0;  // bound on the database file; 0: none
};

struct Backoff {
    Duration initial = std::chrono::milliseconds(500);
    Duration max = std::chrono::seconds(60);
};

// With a noise section, what a state sink is shown of incidents: one alert (event) per
// incident, and the member alerts themselves.
struct IncidentDisplay {
    bool incident_alerts = true;
    bool member_alerts = true;
};

struct AlertmanagerOutput {
    std::string name;
    core::Url endpoint;
    std::string endpoint_text;
    Auth auth;
    Duration resend_interval = std::chrono::minutes(1);
    Duration timeout = std::chrono::seconds(10);
    std::size_t max_alerts_per_push = 1000;
    Backoff backoff;
    bool utf8_label_names = false;  // Alertmanager 0.27+ takes them; 0.25 refuses the push
    IncidentDisplay incidents;
    // Request bodies waiting in the outbox; past it intake answers 503 (SMTP 452).
    std::size_t max_backlog_bytes = std::size_t{256} * 1024 * 1024;
};

// An n9e instance that receives alertbridge's alerts as events (POST /v1/n9e/event).
struct NightingaleOutput {
    std::string name;
    core::Url endpoint;
    std::string endpoint_text;
    Auth auth;                                 // [HTTP.APIForService.BasicAuth] of n9e
    int version = 8;                           // 6, 7, 8 or 9
    long long rule_id = 0;                     // the dedicated placeholder rule
    std::vector<long long> notify_rule_ids;    // v8+
    std::vector<std::string> notify_channels;  // v6/v7
    std::vector<std::string> notify_groups;    // v6/v7: user-group ids
    long long group_id = 0;                    // business group of the events (mutes match on it)
    std::string group_name;
    IncidentDisplay incidents;
    Duration timeout = std::chrono::seconds(10);
    Backoff backoff;
    std::size_t max_backlog_bytes = std::size_t{256} * 1024 * 1024;
};

// A notification sink: each notification POSTed once to `endpoint` as an Alertmanager
// webhook (version 4) body, for IM bridges, ticketing and scripts.
struct WebhookOutput {
    std::string name;
    core::Url endpoint;  // the whole target, path included
    std::string endpoint_text;
    Auth auth;
    Duration timeout = std::chrono::seconds(10);
    Backoff backoff;
    std::size_t max_alerts = 0;  // alerts listed per message, the rest counted; 0: all
    bool send_resolved = true;
    std::size_t max_backlog_bytes = std::size_t{256} * 1024 * 1024;
    // Standard Webhooks signing key ("whsec_<base64>"); empty: requests are not signed.
    std::string signing_secret;
};

struct OutputsConfig {
    std::vector<AlertmanagerOutput> alertmanager;
    std::vector<NightingaleOutput> nightingale;
    std::vector<WebhookOutput> webhook;
};

struct NormalizeConfig {
    std::string severity_label = "severity";
    core::SeverityMap severity_map = core::SeverityMap::defaults();
    core::Severity default_severity = core::Severity::kWarning;
    std::string source_label = "source_kind";  // empty: do not add
};

// Prometheus relabel_configs, with its defaults and its actions.
enum class RelabelAction : std::uint8_t {
    kReplace,
    kKeep,
    kDrop,
    kHashMod,
    kLabelMap,
    kLabelDrop,
    kLabelKeep,
    kLowercase,
    kUppercase,
    kKeepEqual,
    kDropEqual,
};
std::string_view relabelActionName(RelabelAction a);

struct RelabelRule {
    std::string name;  // the metric label; "<index>_<action>" unless the config names it
    std::vector<std::string> source_labels;
    std::string separator = ";";
    std::string regex = "(.*)";  // anchored at both ends when compiled
    std::string target_label;
    std::string replacement = "$1";
    std::uint64_t modulus = 0;
    RelabelAction action = RelabelAction::kReplace;
    std::vector<Located> inputs;       // input ids the rule applies to; empty: all
    std::vector<Located> email_rules;  // email rule packs it applies to; empty: all
    int line = 0;
};

enum class TableMatch : std::uint8_t { kExact, kCidr };
enum class TableFormat : std::uint8_t { kAuto, kCsv, kYaml, kJson };
std::string_view tableFormatName(TableFormat f);

struct TableSource {
    std::string file;  // resolved against the config file's folder; or
    std::string url;   // http:// or https://, synced in full every `interval`
    Duration interval = std::chrono::minutes(5);
    Duration timeout = std::chrono::seconds(30);
    Auth auth;
    std::string ca_file;                      // for https; empty: the system's CAs
    TableFormat format = TableFormat::kAuto;  // auto: from the file extension or Content-Type
    std::size_t min_rows = 0;  // a load with fewer rows is refused (a truncated export)
};

struct TableConfig {
    std::string name;
    TableSource source;
    std::string key_label;   // the alert label whose value is looked up
    std::string key_column;  // empty: the first column
    TableMatch match = TableMatch::kExact;
    std::vector<std::pair<std::string, std::string>> columns;  // column -> label, on a hit
    core::LabelSet set;                                        // literal labels, on a hit
    core::LabelSet default_labels;                             // literal labels, on a miss
    bool overwrite = false;  // false: labels the alert already has are kept
    int line = 0;
};

struct ClassifyRule {
    std::string name;  // the metric label; "rule_<index>" unless the config names it
    std::vector<core::Matcher> matchers;
    core::LabelSet set;
    int line = 0;
};

// Labels from a trading-session calendar, computed at an alert's startsAt (so a firing alert
// keeps them for its life).
struct CalendarLabels {
    std::string calendar;
    bool match_group_from_alert = true;  // the group from the alert's labels, else "any"
    // label name -> what it holds: phase, session, trading_day or group.
    std::vector<std::pair<std::string, std::string>> labels;
    int line = 0;
};

struct EnrichConfig {
    std::vector<RelabelRule> relabel_configs;
    std::vector<TableConfig> tables;
    std::vector<ClassifyRule> classify;
    // Set when no classify rule matched, on alerts that do not carry these labels already.
    core::LabelSet classify_default{{"alert_class", "system"}};
    Duration file_check_interval = std::chrono::seconds(1);  // how often table files are stat'ed
    std::optional<CalendarLabels> calendar_labels;
};

struct LogConfig {
    std::string level = "info";
};

struct Config {
    std::string file;
    GlobalConfig global;
    ListenConfig listen;
    Auth http_auth;
    IntakeConfig intake;
    StorageConfig storage;
    OutputsConfig outputs;
    EmailConfig email;
    NormalizeConfig normalize;
    EnrichConfig enrich;
    LogConfig log;
    std::vector<calendar::CalendarDef> calendars;
    std::vector<calendar::TimeInterval> time_intervals;
    NoiseConfig noise;
};

}  // namespace alertbridge::config
