// The `email:` section: SMTP limits, recipients, allowed clients, rule packs, TLS, SMTP
// auth and the IMAP mailboxes polled for appliances that only mail.
#include "plugin/config/email_loader.hpp"

#include <set>

#include <fmt/format.h>

#include "plugin/core/url.hpp"

namespace alertbridge::config {

namespace fs = std::filesystem;

namespace {

void imap(YamlReader& r, const fs::path& base_dir, const PasswordReader& read_password,
          const YAML::Node& m, const std::string& p, std::set<std::string>& names,
          std::vector<ImapMailbox>& out) {
    if (!r.expectMap(m, p,
                     {"name", "endpoint", "username", "password", "password_file", "mailbox",
                      "poll_interval", "after", "ca_file"})) {
        return;
    }
    ImapMailbox b;
    r.readString(m, p, "name", b.name, true);
    if (!b.name.empty() && !names.insert(b.name).second) {
        r.error(m["name"], p + ".name", fmt::format("duplicate mailbox name \"{}\"", b.name));
    }
    r.readString(m, p, "endpoint", b.endpoint, true);
    if (!b.endpoint.empty() && b.endpoint.rfind("imap://", 0) != 0 &&
        b.endpoint.rfind("imaps://", 0) != 0) {
        r.error(m["endpoint"], p + ".endpoint",
                "expected imap://host[:port] or imaps://host[:port]");
    }
    r.readString(m, p, "username", b.username, true);
    read_password(m, p, b.password);
    r.readString(m, p, "mailbox", b.mailbox);
    r.readString(m, p, "ca_file", b.ca_file);
    if (!b.ca_file.empty()) {
        fs::path path =
            fs::path(b.ca_file).is_absolute() ? fs::path(b.ca_file) : base_dir / b.ca_file;
        if (!fs::exists(path)) {
            r.error(m["ca_file"], p + ".ca_file", fmt::format("cannot read \"{}\"", path.string()));
        }
        b.ca_file = path.string();
    }
    r.readDuration(m, p, "poll_interval", b.poll_interval, std::chrono::seconds(1));
    std::string after = "mark_seen";
    r.readString(m, p, "after", after);
    if (after.rfind("move:", 0) == 0 && after.size() > 5) {
        b.move_to = after.substr(5);
    } else if (after != "mark_seen") {
        r.error(m["after"], p + ".after", "expected mark_seen or move:<folder>");
    }
    out.push_back(std::move(b));
}

}  // namespace

void loadEmail(YamlReader& r, const YAML::Node& n, const fs::path& base_dir,
               const PasswordReader& read_password, EmailConfig& e) {
    const std::string p = "email";
    if (!r.expectMap(n, p,
                     {"limits", "accept_recipients", "allowed_clients", "generic", "rules",
                      "disable_builtin_rules", "retention", "imap", "tls", "auth"})) {
        return;
    }
    r.readDuration(n, p, "retention", e.retention, std::chrono::hours(1));
    if (const auto& t = n["tls"]; r.expectMap(t, "email.tls", {"cert_file", "key_file"})) {
        for (auto [key, out] :
             {std::pair{"cert_file", &e.tls_cert_file}, std::pair{"key_file", &e.tls_key_file}}) {
            std::string file;
            r.readString(t, "email.tls", key, file, true);
            if (file.empty()) continue;
            fs::path path = fs::path(file).is_absolute() ? fs::path(file) : base_dir / file;
            if (!fs::exists(path)) {
                r.error(t[key], std::string("email.tls.") + key,
                        fmt::format("cannot read \"{}\"", path.string()));
            }
            *out = path.string();
        }
    }
    if (const auto& a = n["auth"]; r.expectMap(a, "email.auth", {"users", "required"})) {
        r.readBool(a, "email.auth", "required", e.auth_required);
        const auto& users = a["users"];
        if (r.expectSequence(users, "email.auth.users")) {
            for (std::size_t i = 0; i < users.size(); ++i) {
                auto up = YamlReader::index("email.auth.users", i);
                if (!r.expectMap(users[i], up, {"username", "password", "password_file"})) {
                    continue;
                }
                BasicAuth u;
                r.readString(users[i], up, "username", u.username, true);
                read_password(users[i], up, u.password);
                e.auth_users.push_back(std::move(u));
            }
        }
        if (e.auth_users.empty()) {
            r.error(a, "email.auth.users", "list at least one user");
        } else if (!n["tls"]) {
            r.error(a, "email.auth",
                    "AUTH is offered only over TLS: set email.tls (cert_file, key_file)");
        }
    }
    if (const auto& list = n["imap"]; list && r.expectSequence(list, "email.imap")) {
        std::set<std::string> names;
        for (std::size_t i = 0; i < list.size(); ++i) {
            imap(r, base_dir, read_password, list[i], YamlReader::index("email.imap", i), names,
                 e.imap);
        }
    }
    r.readScalars(n, p, "allowed_clients", [&](const YAML::Node& v, const std::string& vp) {
        auto c = core::parseCidr(v.Scalar());
        if (!c) {
            r.error(v, vp, c.error());
            return;
        }
        e.allowed_clients.push_back(*c);
    });
    r.readScalars(n, p, "rules", [&](const YAML::Node& v, const std::string&) {
        fs::path path =
            fs::path(v.Scalar()).is_absolute() ? fs::path(v.Scalar()) : base_dir / v.Scalar();
        e.rule_files.push_back(Located{path.string(), v.Mark().line + 1});
    });
    r.readScalars(n, p, "disable_builtin_rules", [&](const YAML::Node& v, const std::string&) {
        e.disabled_builtin_rules.push_back(Located{v.Scalar(), v.Mark().line + 1});
    });
    auto l = n["limits"];
    const std::string lp = "email.limits";
    if (r.expectMap(
            l, lp, {"max_message_bytes", "max_recipients", "max_connections", "command_timeout"})) {
        r.readSize(l, lp, "max_message_bytes", e.max_message_bytes, 1024, std::size_t{1} << 30);
        r.readSize(l, lp, "max_recipients", e.max_recipients, 1, 10000);
        r.readSize(l, lp, "max_connections", e.max_connections, 1, 100000);
        r.readDuration(l, lp, "command_timeout", e.command_timeout, std::chrono::seconds(1));
    }
    r.readScalars(n, p, "accept_recipients", [&](const YAML::Node& v, const std::string& vp) {
        const std::string& s = v.Scalar();
        if (s.find('@') == std::string::npos) {
            r.error(v, vp, "expected an address (ops@example.com) or a domain (@example.com)");
            return;
        }
        e.accept_recipients.push_back(s);
    });
    auto g = n["generic"];
    if (r.expectMap(g, p + ".generic", {"resolve_timeout"})) {
        r.readDuration(g, p + ".generic", "resolve_timeout", e.generic_resolve_timeout,
                       std::chrono::minutes(1));
    }
}

}  // namespace alertbridge::config
