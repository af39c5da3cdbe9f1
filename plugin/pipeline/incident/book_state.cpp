// IncidentBook's state as JSON, saved with each checkpoint of the active alerts and loaded
// at start-up before the journal after that checkpoint runs again. What can be derived
// (which incident each alert is in, the timer queue, inhibit sources) is rebuilt on load.
#include <map>
#include <stdexcept>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "plugin/pipeline/incident/book.hpp"

namespace alertbridge::pipeline::incident {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
using Value = rapidjson::Value;

constexpr int kStateVersion = 1;

void str(Writer& w, std::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
void time(Writer& w, core::TimePoint t) { w.Int64(t.time_since_epoch().count()); }
void optTime(Writer& w, const std::optional<core::TimePoint>& t) {
    if (t) {
        time(w, *t);
    } else {
        w.Null();
    }
}
void labels(Writer& w, const core::LabelSet& set) {
    w.StartArray();
    for (const auto& [k, v] : set) {
        str(w, k);
        str(w, v);
    }
    w.EndArray();
}

// Reading checks every shape it relies on: a damaged state (a bad disk page, a hand edit)
// makes load() refuse it, never read out of bounds or abort.
struct Damaged : std::runtime_error {
    using std::runtime_error::runtime_error;
};
const Value& arr(const Value& v) {
    if (!v.IsArray()) throw Damaged("expected an array");
    return v;
}
const Value& at(const Value& v, rapidjson::SizeType i) {
    if (!v.IsArray() || i >= v.Size()) throw Damaged("an array is too short");
    return v[i];
}
const Value& field(const Value& v, const char* key) {
    if (!v.IsObject() || !v.HasMember(key)) throw Damaged(std::string("no ") + key);
    return v[key];
}
std::uint64_t u64(const Value& v) {
    if (!v.IsUint64()) throw Damaged("expected an unsigned number");
    return v.GetUint64();
}
std::int64_t i64(const Value& v) {
    if (!v.IsInt64()) throw Damaged("expected a number");
    return v.GetInt64();
}
int int32(const Value& v) {
    if (!v.IsInt()) throw Damaged("expected a small number");
    return v.GetInt();
}
bool boolean(const Value& v) {
    if (!v.IsBool()) throw Damaged("expected true or false");
    return v.GetBool();
}
core::TimePoint getTime(const Value& v) { return core::TimePoint(core::Duration(i64(v))); }
std::optional<core::TimePoint> getOptTime(const Value& v) {
    if (v.IsNull()) return std::nullopt;
    return getTime(v);
}
std::string getStr(const Value& v) {
    if (!v.IsString()) throw Damaged("expected a string");
    return {v.GetString(), v.GetStringLength()};
}
core::LabelSet getLabels(const Value& v) {
    core::LabelSet out;
    for (rapidjson::SizeType i = 0; i + 1 < arr(v).Size(); i += 2)
        out.set(getStr(v[i]), getStr(v[i + 1]));
    return out;
}

void writeIncident(Writer& w, const core::Incident& inc) {
    w.StartArray();
    w.Uint64(inc.id);
    str(w, inc.group_key);
    str(w, inc.kind);
    str(w, inc.title);
    str(w, inc.why);
    w.Int(static_cast<int>(inc.state));
    time(w, inc.created_at);
    optTime(w, inc.first_notified_at);
    optTime(w, inc.acknowledged_at);
    w.Bool(inc.flapping);
    w.Bool(inc.storm);
    w.Bool(inc.paged);
    w.Bool(inc.digested);
    w.Bool(inc.digest_queued);
    str(w, inc.receiver);
    optTime(w, inc.last_notified_at);
    optTime(w, inc.due);
    optTime(w, inc.resolve_at);
    optTime(w, inc.repeat_at);
    w.Int(inc.messages);
    w.StartArray();
    for (const auto& [fp, m] : inc.members) {
        w.StartArray();
        w.Uint64(fp);
        labels(w, m.labels);
        labels(w, m.annotations);
        time(w, m.starts_at);
        w.Int(static_cast<int>(m.severity));
        w.Bool(m.firing);
        time(w, m.joined_at);
        time(w, m.changed_at);
        str(w, m.via);
        w.Int(static_cast<int>(m.wanted));
        str(w, m.policy_rule);
        str(w, m.receiver);
        str(w, m.digest);
        str(w, m.suppressed);
        w.Bool(m.notified);
        w.Uint64(m.root_rank);
        w.EndArray();
    }
    w.EndArray();
    w.StartArray();
    for (const auto& e : inc.timeline) {
        time(w, e.at);
        str(w, e.what);
    }
    w.EndArray();
    w.EndArray();
}

core::Incident readIncident(const Value& v) {
    core::Incident inc;
    rapidjson::SizeType i = 0;
    inc.id = u64(at(v, i++));
    inc.group_key = getStr(at(v, i++));
    inc.kind = getStr(at(v, i++));
    inc.title = getStr(at(v, i++));
    inc.why = getStr(at(v, i++));
    inc.state = static_cast<core::IncidentState>(int32(at(v, i++)));
    inc.created_at = getTime(at(v, i++));
    inc.first_notified_at = getOptTime(at(v, i++));
    inc.acknowledged_at = getOptTime(at(v, i++));
    inc.flapping = boolean(at(v, i++));
    inc.storm = boolean(at(v, i++));
    inc.paged = boolean(at(v, i++));
    inc.digested = boolean(at(v, i++));
    inc.digest_queued = boolean(at(v, i++));
    inc.receiver = getStr(at(v, i++));
    inc.last_notified_at = getOptTime(at(v, i++));
    inc.due = getOptTime(at(v, i++));
    inc.resolve_at = getOptTime(at(v, i++));
    inc.repeat_at = getOptTime(at(v, i++));
    inc.messages = int32(at(v, i++));
    for (const auto& mv : arr(at(v, i++)).GetArray()) {
        core::IncidentMember m;
        rapidjson::SizeType k = 0;
        m.fingerprint = u64(at(mv, k++));
        m.labels = getLabels(at(mv, k++));
        m.annotations = getLabels(at(mv, k++));
        m.starts_at = getTime(at(mv, k++));
        m.severity = static_cast<core::Severity>(int32(at(mv, k++)));
        m.firing = boolean(at(mv, k++));
        m.joined_at = getTime(at(mv, k++));
        m.changed_at = getTime(at(mv, k++));
        m.via = getStr(at(mv, k++));
        m.wanted = static_cast<core::NotifyLevel>(int32(at(mv, k++)));
        m.policy_rule = getStr(at(mv, k++));
        m.receiver = getStr(at(mv, k++));
        m.digest = getStr(at(mv, k++));
        m.suppressed = getStr(at(mv, k++));
        m.notified = boolean(at(mv, k++));
        m.root_rank = u64(at(mv, k++));
        if (m.firing) ++inc.firing;
        inc.members.emplace(m.fingerprint, std::move(m));
    }
    const auto& tl = arr(at(v, i++));
    for (rapidjson::SizeType k = 0; k + 1 < tl.Size(); k += 2) {
        inc.timeline.push_back(core::TimelineEntry{getTime(tl[k]), getStr(tl[k + 1])});
    }
    return inc;
}

}  // namespace

std::string IncidentBook::save() const {
    rapidjson::StringBuffer sb;
    Writer w(sb);
    w.StartObject();
    w.Key("version");
    w.Int(kStateVersion);
    w.Key("next_id");
    w.Uint64(next_id_);
    w.Key("sequence");
    w.Uint64(sequence_);
    w.Key("open");
    w.StartArray();
    for (const auto& [id, inc] : open_) writeIncident(w, inc);
    w.EndArray();
    // Hash maps are written in key order, so the same book always saves the same bytes.
    w.Key("groups");
    w.StartArray();
    for (const auto& [k, id] : std::map<std::string, Id>(by_group_.begin(), by_group_.end())) {
        str(w, k);
        w.Uint64(id);
    }
    w.EndArray();
    w.Key("links");
    w.StartArray();
    std::map<std::string_view, const std::vector<std::pair<Id, core::TimePoint>>*> links;
    for (const auto& [k, ids] : by_link_) links.emplace(k, &ids);
    for (const auto& [k, idsp] : links) {
        const auto& ids = *idsp;
        str(w, k);
        w.StartArray();
        for (const auto& [id, since] : ids) {
            w.Uint64(id);
            time(w, since);
        }
        w.EndArray();
    }
    w.EndArray();
    w.Key("merged");
    w.StartArray();
    for (const auto& [from, into] : merged_into_) {
        w.Uint64(from);
        w.Uint64(into);
    }
    w.EndArray();
    w.Key("storms");
    w.StartArray();
    for (const auto& [scope, st] : storms_) {
        str(w, scope);
        w.StartArray();
        w.Uint64(st.incident);
        time(w, st.last);
        str(w, st.rule);
        w.Int64(st.window.count());
        w.StartArray();
        for (const auto& [t, fp] : st.recent) {
            time(w, t);
            w.Uint64(fp);
        }
        w.EndArray();
        w.EndArray();
    }
    w.EndArray();
    w.Key("changes");
    w.StartArray();
    std::map<core::Fingerprint, const std::deque<core::TimePoint>*> changes;
    for (const auto& [fp, q] : changes_) changes.emplace(fp, &q);
    for (const auto& [fp, qp] : changes) {
        const auto& q = *qp;
        if (q.empty()) continue;
        w.Uint64(fp);
        w.StartArray();
        for (auto t : q) time(w, t);
        w.EndArray();
    }
    w.EndArray();
    w.Key("digests");
    w.StartArray();
    for (std::size_t d = 0; d < digest_queue_.size(); ++d) {
        w.StartArray();
        time(w, d < digest_at_.size() ? digest_at_[d] : core::TimePoint::max());
        for (const auto& [group, entries] : digest_queue_[d]) {
            str(w, group);
            w.StartArray();
            for (const auto& e : entries) {
                w.Uint64(e.incident);
                w.Bool(e.resolution);
            }
            w.EndArray();
        }
        w.EndArray();
    }
    w.EndArray();
    w.Key("held");
    w.StartArray();
    for (const auto& [id, fp] : held_) {
        w.Uint64(id);
        w.Uint64(fp);
    }
    w.EndArray();
    w.Key("held_check");
    optTime(w, held_check_);
    // Silences live here too: a checkpoint holds every change journaled before it.
    auto silences = silences_.save();
    w.Key("silences");
    w.RawValue(silences.data(), silences.size(), rapidjson::kArrayType);
    w.Key("silence_edge");
    optTime(w, silence_edge_);
    w.EndObject();
    return sb.GetString();
}

bool IncidentBook::load(std::string_view text) {
    rapidjson::Document doc;
    doc.Parse(text.data(), text.size());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("version") ||
        !doc["version"].IsInt() || doc["version"].GetInt() != kStateVersion) {
        return false;
    }
    try {
        next_id_ = u64(field(doc, "next_id"));
        sequence_ = u64(field(doc, "sequence"));
        open_.clear();
        by_fp_.clear();
        for (const auto& v : arr(field(doc, "open")).GetArray()) {
            auto inc = readIncident(v);
            for (const auto& [fp, m] : inc.members) by_fp_[fp] = inc.id;
            open_.emplace(inc.id, std::move(inc));
        }
        const auto& groups = arr(field(doc, "groups"));
        for (rapidjson::SizeType i = 0; i + 1 < groups.Size(); i += 2) {
            by_group_[getStr(groups[i])] = u64(groups[i + 1]);
        }
        const auto& links = arr(field(doc, "links"));
        for (rapidjson::SizeType i = 0; i + 1 < links.Size(); i += 2) {
            auto& ids = by_link_[getStr(links[i])];
            const auto& l = arr(links[i + 1]);
            for (rapidjson::SizeType k = 0; k + 1 < l.Size(); k += 2) {
                ids.emplace_back(u64(l[k]), getTime(l[k + 1]));
            }
        }
        const auto& merged = arr(field(doc, "merged"));
        for (rapidjson::SizeType i = 0; i + 1 < merged.Size(); i += 2) {
            merged_into_[u64(merged[i])] = u64(merged[i + 1]);
        }
        const auto& storms = arr(field(doc, "storms"));
        for (rapidjson::SizeType i = 0; i + 1 < storms.Size(); i += 2) {
            auto& st = storms_[getStr(storms[i])];
            const auto& s = storms[i + 1];
            st.incident = u64(at(s, 0));
            st.last = getTime(at(s, 1));
            st.rule = getStr(at(s, 2));
            st.window = core::Duration(i64(at(s, 3)));
            const auto& recent = arr(at(s, 4));
            for (rapidjson::SizeType k = 0; k + 1 < recent.Size(); k += 2) {
                st.recent.emplace_back(getTime(recent[k]), u64(recent[k + 1]));
            }
        }
        const auto& changes = arr(field(doc, "changes"));
        for (rapidjson::SizeType i = 0; i + 1 < changes.Size(); i += 2) {
            auto& q = changes_[u64(changes[i])];
            for (const auto& t : arr(changes[i + 1]).GetArray()) q.push_back(getTime(t));
        }
        // Digests by position; a config with other digests keeps what fits.
        const auto& digests = arr(field(doc, "digests"));
        for (rapidjson::SizeType d = 0; d < digests.Size() && d < digest_queue_.size(); ++d) {
            const auto& dv = digests[d];
            digest_at_[d] = getTime(at(dv, 0));
            for (rapidjson::SizeType k = 1; k + 1 < dv.Size(); k += 2) {
                auto& entries = digest_queue_[d][getStr(dv[k])];
                const auto& ev = arr(dv[k + 1]);
                for (rapidjson::SizeType e = 0; e + 1 < ev.Size(); e += 2) {
                    entries.push_back(DigestEntry{u64(ev[e]), boolean(ev[e + 1])});
                }
            }
        }
        const auto& held = arr(field(doc, "held"));
        for (rapidjson::SizeType i = 0; i + 1 < held.Size(); i += 2) {
            held_.insert({u64(held[i]), u64(held[i + 1])});
        }
        held_check_ = getOptTime(field(doc, "held_check"));
        // Absent in a book saved before silences existed.
        if (doc.HasMember("silences")) {
            rapidjson::StringBuffer sb;
            rapidjson::Writer<rapidjson::StringBuffer> w(sb);
            doc["silences"].Accept(w);
            if (!silences_.load(std::string_view(sb.GetString(), sb.GetSize()))) {
                throw Damaged("unreadable silences");
            }
            silence_edge_ = getOptTime(field(doc, "silence_edge"));
        }
    } catch (const std::exception&) {  // Damaged, or allocation: start afresh
        next_id_ = 1;
        sequence_ = 0;
        open_.clear();
        by_fp_.clear();
        by_group_.clear();
        by_link_.clear();
        merged_into_.clear();
        storms_.clear();
        changes_.clear();
        for (auto& q : digest_queue_) q.clear();
        held_.clear();
        held_check_.reset();
        silences_ = Silences{};
        silence_edge_.reset();
        return false;
    }
    inhibit_sources_.assign(rules_->config().inhibit_rules.size(), {});
    for (auto& [id, inc] : open_) {
        for (const auto& [fp, m] : inc.members) {
            if (m.firing) countInhibitSources(m.labels, 1);
        }
        rearm(inc);
    }
    if (metrics_ != nullptr) metrics_->openIncidents().Set(static_cast<double>(open_.size()));
    return true;
}

}  // namespace alertbridge::pipeline::incident
