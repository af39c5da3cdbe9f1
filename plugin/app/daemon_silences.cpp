// Alertmanager's silences API v2 on alertbridge, so that amtool, kthxbye and the UIs that
// speak it work against it. A change is journaled before it is applied (the sender hears
// back once the engine has applied it), so silences survive kill -9; reads copy the set on
// the engine thread, so a silence is visible as soon as its POST has been answered.
//
// A journal entry for a change is one line, "set <id for a new silence>" or
// "expire <id>", followed for a set by the posted body, byte for byte.
#include <future>

#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "adapters/alertmanager/silence_codec.hpp"
#include "plugin/app/daemon.hpp"
#include "plugin/core/time.hpp"

namespace alertbridge::app {

namespace {

using pipeline::incident::SilenceChange;

core::Result<SilenceChange> parseEntry(std::string_view entry) {
    auto nl = entry.find('\n');
    std::string_view head = entry.substr(0, nl);
    std::string_view body = nl == std::string_view::npos ? "" : entry.substr(nl + 1);
    SilenceChange c;
    if (head.starts_with("set ")) {
        auto posted = alertmanager::decodePostableSilence(body);
        if (!posted.ok()) return core::Error{"the posted silence is refused: " + posted.error_body};
        c.op = SilenceChange::Op::kSet;
        c.silence = std::move(posted.silence);
        c.new_id = std::string(head.substr(4));
    } else if (head.starts_with("expire ")) {
        c.op = SilenceChange::Op::kExpire;
        c.id = std::string(head.substr(7));
    } else {
        return core::Error{"not a silence change"};
    }
    return c;
}

net::HttpResponse reply(int status, std::string body) {
    return net::HttpResponse{status, "application/json", std::move(body), {}};
}

}  // namespace

void Daemon::countSilences(core::TimePoint now) {
    const auto* book = engine_->pipeline().incidents();
    std::size_t active = 0;
    if (book != nullptr) {
        for (const auto& [id, s] : book->silences().all()) {
            active += s.stateAt(now) == core::SilenceState::kActive ? 1 : 0;
        }
    }
    metrics_.activeSilences().Set(static_cast<double>(active));
}

void Daemon::applySilence(std::string_view entry, long long journal_id, core::TimePoint at,
                          const net::Responder* respond) {
    auto change = parseEntry(entry);
    if (!change) {
        spdlog::error(
            "A silence change in the journal could not be read and is skipped. id={} "
            "error=\"{}\"",
            journal_id, change.error());
        if (respond != nullptr) {
            (*respond)(reply(500, alertmanager::jsonErrorString(change.error())));
        }
        return;
    }
    handle(engine_->advance(at), 0);
    pipeline::incident::SilenceOutcome outcome;
    auto effects = engine_->changeSilence(*change, journal_id, at, outcome);
    if (journal_id <= replayed_outbox_id_) {
        effects.delta.outbox.clear();  // stored before the crash
    } else {
        effects.delta.outbox_journal_id = journal_id;
    }
    handle(std::move(effects), 0);
    countSilences(at);
    if (respond == nullptr) return;  // a restore: counted when it was made
    metrics_
        .silenceChanges(change->op == SilenceChange::Op::kSet ? "set" : "expire",
                        outcome.ok() ? "ok" : "refused")
        .Increment();
    if (!outcome.ok()) {
        (*respond)(reply(outcome.status, alertmanager::jsonErrorString(outcome.error)));
    } else if (change->op == SilenceChange::Op::kSet) {
        (*respond)(reply(200, fmt::format("{{\"silenceID\":\"{}\"}}\n", outcome.id)));
    } else {
        (*respond)(net::HttpResponse{200, "", "", {}});
    }
}

void Daemon::silences(const net::HttpRequest& req, std::string_view path,
                      const net::Responder& respond) {
    const bool list = path == "/api/v2/silences";
    std::string id;
    if (!list) {
        id = std::string(path.substr(std::string_view("/api/v2/silence/").size()));
        if (id.empty() || id.find('/') != std::string::npos) {
            respond(reply(404, alertmanager::jsonErrorString("expected /api/v2/silence/{id}")));
            return;
        }
    }
    const char* allow = list ? "GET, POST" : "GET, DELETE";
    const bool read = req.method == "GET" || req.method == "HEAD";
    if (!read && req.method != (list ? "POST" : "DELETE")) {
        auto res = reply(405, alertmanager::jsonErrorString(fmt::format("use {}", allow)));
        res.headers.emplace_back("Allow", allow);
        respond(std::move(res));
        return;
    }
    if (read) {
        std::vector<core::Matcher> filter;
        for (const auto& f : queryParams(req.target, "filter")) {
            auto parsed = core::parseMatchers(f);
            if (!parsed) {
                respond(reply(
                    400, alertmanager::jsonErrorString("bad matcher format: " + parsed.error())));
                return;
            }
            for (auto& m : *parsed) filter.push_back(std::move(m));
        }
        bool queued = api_reads_->post([this, respond, id, filter = std::move(filter)] {
            auto promise = std::make_shared<std::promise<std::optional<net::HttpResponse>>>();
            auto future = promise->get_future();
            post([this, promise, &id, &filter] {
                const auto* book = engine_->pipeline().incidents();
                if (book == nullptr) {
                    promise->set_value(std::nullopt);
                    return;
                }
                const auto now = clock_.now();
                if (!id.empty()) {
                    const auto* s = book->silences().find(id);
                    promise->set_value(
                        s == nullptr
                            ? reply(404, alertmanager::jsonErrorString("silence not found"))
                            : reply(200, alertmanager::encodeSilence(*s, now)));
                    return;
                }
                std::vector<const core::Silence*> out;
                for (const auto& [k, s] : book->silences().all()) {
                    if (alertmanager::silenceMatchesFilter(s, filter)) out.push_back(&s);
                }
                promise->set_value(reply(200, alertmanager::encodeSilences(std::move(out), now)));
            });
            auto got = future.get();
            respond(got ? std::move(*got)
                        : reply(404, alertmanager::jsonErrorString(
                                         "silences need a noise section in the config")));
        });
        if (!queued) {
            auto res = reply(503, jsonString("too many API requests waiting; retry later"));
            res.headers.emplace_back("Retry-After", "1");
            respond(std::move(res));
        }
        return;
    }

    if (req.body_too_large) {
        metrics_.silenceChanges("set", "refused").Increment();
        respond(reply(
            413, alertmanager::jsonErrorString("the body is larger than intake.max_body_bytes")));
        return;
    }
    std::string entry;
    if (list) {
        auto posted = alertmanager::decodePostableSilence(req.body);
        if (!posted.ok()) {
            metrics_.silenceChanges("set", "refused").Increment();
            respond(reply(posted.status, posted.error_body));
            return;
        }
        // The id a new silence will get, drawn here so the journal holds it.
        thread_local boost::uuids::random_generator uuids;
        entry = fmt::format("set {}\n", boost::uuids::to_string(uuids()));
        entry += req.body;
    } else {
        entry = "expire " + id + "\n";
    }
    if (!store_->writable()) {
        auto res = reply(
            503, jsonString("the silence could not be stored; retry later: " + store_->failure()));
        res.headers.emplace_back("Retry-After", "5");
        respond(std::move(res));
        return;
    }
    const auto at = core::journalInstant(clock_.now());
    state::JournalEntry je{0, std::string(kSilenceInput), at, entry, nullptr};
    store_->appendJournal(
        std::move(je), [this, respond, entry, at](const core::Result<long long>& journal_id) {
            if (!journal_id) {
                auto res = reply(503, jsonString("the silence could not be stored; retry later: " +
                                                 journal_id.error()));
                res.headers.emplace_back("Retry-After", "5");
                respond(res);
                return;
            }
            const long long jid = *journal_id;
            post([this, respond, entry, jid, at] { applySilence(entry, jid, at, &respond); });
        });
}

}  // namespace alertbridge::app
