// The email side of the daemon: SMTP and IMAP intake, and the email archive API.
#include <charconv>
#include <future>

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include "plugin/app/daemon.hpp"
#include "plugin/app/email_view.hpp"
#include "plugin/core/time.hpp"
#include "plugin/pipeline/normalize.hpp"

namespace alertbridge::app {

void Daemon::acceptEmail(email::SmtpMessage&& message, const std::string& remote,
                         const net::SmtpDone& done) {
    const InputDef& input = *findInput(email::kInput);
    const auto& m = metrics_.input(input.id);
    m.requests->Increment();
    auto received_at = clock_.now();
    // The envelope sender, recorded the way a final delivery does, so that replay sees it.
    std::string raw = "Return-Path: <" + message.mail_from + ">\r\n";
    raw += message.data;
    std::string().swap(message.data);
    core::Alert alert;
    auto record = std::make_shared<state::EmailRecord>();
    {
        // The decoded text lives only while the alert and the archive record are made; what
        // waits for the store is the raw message (once) and the record.
        auto decoded = decodeEmail(raw, message.mail_from, received_at);
        spdlog::debug("An email arrived. remote={} bytes={} rule={}", remote, raw.size(),
                      decoded.result.rule);
        *record = emailRecord(decoded, 0, received_at, "");
        alert = std::move(decoded.result.alert);
    }
    m.alerts_received->Increment();
    accept(input, std::move(raw), received_at, core::AlertBatch{std::move(alert)}, record,
           [done](Outcome outcome, long long id, const std::string& reason) {
               switch (outcome) {
                   case Outcome::kStored:
                   case Outcome::kNothingToStore:
                       done(std::to_string(id), "", false);
                       return;
                   case Outcome::kFull:
                       done("", reason, true);
                       return;
                   case Outcome::kStoreError:
                       done("", reason, false);
                       return;
               }
           });
}

bool Daemon::acceptImapMessage(const std::string& mailbox, std::string raw) {
    const InputDef& input = *findInput(email::kInput);
    const auto& m = metrics_.input(input.id);
    m.requests->Increment();
    auto received_at = clock_.now();
    auto decoded = decodeEmail(raw, "", received_at);
    m.alerts_received->Increment();
    spdlog::debug("An email was taken from IMAP. mailbox={} bytes={} rule={}", mailbox, raw.size(),
                  decoded.result.rule);
    auto record = std::make_shared<state::EmailRecord>(emailRecord(decoded, 0, received_at, ""));
    core::AlertBatch batch{std::move(decoded.result.alert)};
    decoded = DecodedEmail{};
    std::promise<bool> stored;
    accept(input, std::move(raw), received_at, std::move(batch), record,
           [&](Outcome outcome, long long, const std::string& reason) {
               if (outcome != Outcome::kStored && outcome != Outcome::kNothingToStore) {
                   spdlog::warn(
                       "An IMAP message could not be taken now; it stays in the mailbox. "
                       "mailbox={} error=\"{}\"",
                       mailbox, reason);
               }
               stored.set_value(outcome == Outcome::kStored || outcome == Outcome::kNothingToStore);
           });
    return stored.get_future().get();
}

Daemon::DecodedEmail Daemon::decodeEmail(std::string_view raw, std::string_view envelope_from,
                                         core::TimePoint received_at, bool count) {
    // The one decoding path (the registry's decoder runs it too), keeping the rule's name
    // and warnings for the metrics, the log and the archive.
    DecodedEmail d;
    d.result = email::decodeMessage(*email_rules_, raw, envelope_from, received_at, &d.mail);
    if (!count) return d;  // replay: counted and logged when it first arrived
    const auto& rm = metrics_.emailRule(d.result.rule);
    rm.messages->Increment();
    for (const auto& w : d.result.warnings) {
        rm.warnings->Increment();
        spdlog::warn("An email rule could not read a field. rule={} subject=\"{}\" warning=\"{}\"",
                     d.result.rule, d.mail.subject, w);
    }
    return d;
}

state::EmailRecord Daemon::emailRecord(const DecodedEmail& d, long long id,
                                       core::TimePoint received_at, std::string raw) const {
    const core::Alert a = pipeline::normalized(config_.normalize, d.result.alert, received_at);
    state::EmailRecord r;
    r.id = id;
    r.received_at = received_at;
    r.sender = email::senderAddress(!d.mail.from.empty() ? d.mail.from : d.mail.return_path);
    r.subject = d.mail.subject;
    r.message_id = d.mail.message_id;
    r.rule = d.result.rule;
    r.fingerprint = a.fingerprint;
    r.status = a.resolvedAt(received_at) ? "resolved" : "firing";
    r.result = emailResultJson(a, d.result.rule, received_at, /*pretty=*/false);
    for (const auto& w : d.result.warnings) r.warnings += (r.warnings.empty() ? "" : "\n") + w;
    r.raw = std::move(raw);
    return r;
}

}  // namespace alertbridge::app

namespace alertbridge::app {
namespace {

template <typename Writer>
void writeEmail(Writer& w, const state::EmailRecord& e, bool with_result) {
    auto str = [&w](std::string_view s) {
        w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    };
    w.StartObject();
    w.Key("id");
    w.Int64(e.id);
    w.Key("received_at");
    str(core::formatRfc3339(e.received_at));
    w.Key("from");
    str(e.sender);
    w.Key("subject");
    str(e.subject);
    w.Key("message_id");
    str(e.message_id);
    w.Key("rule");
    str(e.rule);
    w.Key("status");
    str(e.status);
    w.Key("fingerprint");
    str(core::fingerprintHex(e.fingerprint));
    w.Key("warnings");
    w.StartArray();
    std::string_view rest = e.warnings;
    while (!rest.empty()) {
        auto nl = rest.find('\n');
        str(rest.substr(0, nl));
        if (nl == std::string_view::npos) break;
        rest = rest.substr(nl + 1);
    }
    w.EndArray();
    if (with_result) {
        w.Key("result");
        w.RawValue(e.result.data(), e.result.size(), rapidjson::kObjectType);
    }
    w.EndObject();
}

}  // namespace

void Daemon::emails(const net::HttpRequest& req, std::string_view path,
                    const net::Responder& respond) {
    // /api/v1/emails[?fingerprint=&limit=], /api/v1/emails/{id}[/raw|/reparse]
    std::string_view rest = path.substr(std::string_view("/api/v1/emails").size());
    long long id = 0;
    std::string_view action;
    if (!rest.empty()) {
        rest.remove_prefix(1);
        auto slash = rest.find('/');
        auto digits = rest.substr(0, slash);
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
        if (ec != std::errc() || end != digits.data() + digits.size() || id <= 0) {
            respond(jsonReply(404, jsonString("no such email: expected /api/v1/emails/{id}")));
            return;
        }
        if (slash != std::string_view::npos) action = rest.substr(slash + 1);
        if (!action.empty() && action != "raw" && action != "reparse") {
            respond(jsonReply(404, jsonString("expected /raw or /reparse after the email id")));
            return;
        }
    }
    const bool post = action == "reparse";
    if (req.method != (post ? "POST" : "GET")) {
        auto res = jsonReply(405, jsonString(post ? "use POST" : "use GET"));
        res.headers.emplace_back("Allow", post ? "POST" : "GET");
        respond(std::move(res));
        return;
    }
    // Reads block on SQLite: they run on the API reader thread, with its own connection.
    if (!api_reads_->post([this, req, id, action = std::string(action), respond] {
            emailsOnReader(req, id, action, respond);
        })) {
        auto res = jsonReply(503, jsonString("too many archive requests waiting; retry later"));
        res.headers.emplace_back("Retry-After", "1");
        respond(std::move(res));
    }
}

void Daemon::emailsOnReader(const net::HttpRequest& req, long long id, const std::string& action,
                            const net::Responder& respond) {
    if (!api_reader_) api_reader_ = store_->openReader();
    if (!api_reader_) {
        respond(jsonReply(503, jsonString("cannot open the store for reading; retry later")));
        return;
    }
    auto& reader = api_reader_;
    if (id == 0) {
        core::Fingerprint fp = 0;
        if (auto hex = queryParam(req.target, "fingerprint"); !hex.empty()) {
            auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), fp, 16);
            if (ec != std::errc() || end != hex.data() + hex.size() || hex.size() > 16) {
                respond(jsonReply(400, jsonString("fingerprint: expected up to 16 hex digits")));
                return;
            }
        }
        std::size_t limit = 100;
        if (auto l = queryParam(req.target, "limit"); !l.empty()) {
            auto [end, ec] = std::from_chars(l.data(), l.data() + l.size(), limit);
            if (ec != std::errc() || end != l.data() + l.size() || limit < 1 || limit > 1000) {
                respond(jsonReply(400, jsonString("limit: expected 1 to 1000")));
                return;
            }
        }
        auto list = reader->emails(fp, limit);
        if (!list) {
            respond(jsonReply(500, jsonString(list.error())));
            return;
        }
        rapidjson::StringBuffer buf;
        rapidjson::Writer<rapidjson::StringBuffer> w(buf);
        w.StartObject();
        w.Key("emails");
        w.StartArray();
        for (const auto& e : *list) writeEmail(w, e, false);
        w.EndArray();
        w.EndObject();
        respond(jsonReply(200, std::string(buf.GetString(), buf.GetSize())));
        return;
    }
    auto found = reader->email(id);
    if (!found) {
        respond(jsonReply(404, jsonString(found.error())));
        return;
    }
    if (action == "raw") {
        respond(net::HttpResponse{200, "message/rfc822", std::move(found->raw), {}});
        return;
    }
    if (action.empty()) {
        rapidjson::StringBuffer buf;
        rapidjson::Writer<rapidjson::StringBuffer> w(buf);
        writeEmail(w, *found, true);
        respond(jsonReply(200, std::string(buf.GetString(), buf.GetSize())));
        return;
    }
    // Re-parse with the rules loaded now, and hand the result to the pipeline as a new
    // intake of the same message (a new journal entry and a new archive record).
    const InputDef& input = *findInput(email::kInput);
    auto received_at = clock_.now();
    auto decoded = decodeEmail(found->raw, "", received_at);
    spdlog::info("An archived email is parsed again. id={} rule_before={} rule_now={}", id,
                 found->rule, decoded.result.rule);
    auto record = std::make_shared<state::EmailRecord>(emailRecord(decoded, 0, received_at, ""));
    accept(input, std::move(found->raw), received_at, core::AlertBatch{decoded.result.alert},
           record,
           [respond, record, id](Outcome outcome, long long new_id, const std::string& reason) {
               switch (outcome) {
                   case Outcome::kStored: {
                       auto rec = *record;
                       rec.id = new_id;
                       rapidjson::StringBuffer buf;
                       rapidjson::Writer<rapidjson::StringBuffer> w(buf);
                       w.StartObject();
                       w.Key("reparsed_from");
                       w.Int64(id);
                       w.Key("email");
                       writeEmail(w, rec, true);
                       w.EndObject();
                       respond(jsonReply(200, std::string(buf.GetString(), buf.GetSize())));
                       return;
                   }
                   case Outcome::kNothingToStore:
                       respond(jsonReply(
                           409, jsonString("the message carries this instance's marker label")));
                       return;
                   case Outcome::kFull:
                       respond(jsonReply(503, jsonString(reason + "; retry later")));
                       return;
                   case Outcome::kStoreError:
                       respond(jsonReply(500, jsonString(reason)));
                       return;
               }
           });
}

}  // namespace alertbridge::app
