#include "plugin/pipeline/incident/silences.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace alertbridge::pipeline::incident {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

SilenceOutcome refused(int status, std::string error) {
    return SilenceOutcome{status, "", std::move(error)};
}

core::TimePoint toSecond(core::TimePoint t) {
    return std::chrono::time_point_cast<std::chrono::seconds>(t);
}

// Alertmanager's canUpdate: whether `next` may replace `prev` under the same id.
bool canUpdate(const core::Silence& prev, const core::Silence& next, core::TimePoint now) {
    if (!core::sameMatchers(prev, next)) return false;
    switch (prev.stateAt(now)) {
        case core::SilenceState::kActive:
            return toSecond(next.starts_at) == toSecond(prev.starts_at) && next.ends_at >= now;
        case core::SilenceState::kPending:
            return next.starts_at >= now;
        case core::SilenceState::kExpired:
            return false;
    }
    return false;
}

void endAt(core::Silence& s, core::TimePoint now) {
    if (s.starts_at > now) s.starts_at = now;
    s.ends_at = now;
    s.updated_at = now;
}

}  // namespace

SilenceOutcome Silences::set(core::Silence s, const std::string& new_id, core::TimePoint now) {
    if (s.starts_at >= s.ends_at) {
        return refused(400, "Failed to create silence: start time must be before end time");
    }
    if (s.ends_at < now) {
        return refused(400, "Failed to create silence: end time can't be in the past");
    }
    collect(now);
    if (!s.id.empty()) {
        auto it = by_id_.find(s.id);
        if (it == by_id_.end()) return refused(404, "silence not found");
        if (canUpdate(it->second, s, now)) {
            s.updated_at = now;
            if (it->second.stateAt(now) == core::SilenceState::kActive) {
                s.starts_at = it->second.starts_at;
            }
            it->second = std::move(s);
            return SilenceOutcome{200, it->first, ""};
        }
        if (it->second.stateAt(now) != core::SilenceState::kExpired) endAt(it->second, now);
    }
    if (new_id.empty() || by_id_.contains(new_id)) {
        return refused(500, "no fresh id for the new silence");
    }
    s.id = new_id;
    if (s.starts_at < now) s.starts_at = now;
    s.updated_at = now;
    by_id_.emplace(new_id, std::move(s));
    return SilenceOutcome{200, new_id, ""};
}

SilenceOutcome Silences::expire(const std::string& id, core::TimePoint now) {
    auto it = by_id_.find(id);
    if (it == by_id_.end()) return refused(404, "silence not found");
    if (it->second.stateAt(now) == core::SilenceState::kExpired) {
        return refused(400, "silence " + id + " already expired");
    }
    endAt(it->second, now);
    return SilenceOutcome{200, id, ""};
}

const core::Silence* Silences::find(const std::string& id) const {
    auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : &it->second;
}

std::string Silences::mutedBy(const core::LabelSet& labels, core::TimePoint now) const {
    for (const auto& [id, s] : by_id_) {
        if (s.mutes(labels, now)) return id;
    }
    return "";
}

std::optional<core::TimePoint> Silences::nextEdge(core::TimePoint now) const {
    std::optional<core::TimePoint> next;
    auto consider = [&](core::TimePoint t) {
        if (t > now && (!next || t < *next)) next = t;
    };
    for (const auto& [id, s] : by_id_) {
        consider(s.starts_at);
        consider(s.ends_at);
    }
    return next;
}

void Silences::collect(core::TimePoint now) {
    std::erase_if(by_id_, [now](const auto& kv) { return kv.second.ends_at + kRetention < now; });
}

std::string Silences::save() const {
    rapidjson::StringBuffer sb;
    Writer w(sb);
    auto str = [&w](std::string_view s) {
        w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    };
    auto time = [&w](core::TimePoint t) { w.Int64(t.time_since_epoch().count()); };
    w.StartArray();
    for (const auto& [id, s] : by_id_) {
        w.StartArray();
        str(id);
        time(s.starts_at);
        time(s.ends_at);
        time(s.updated_at);
        str(s.created_by);
        str(s.comment);
        for (const auto& m : s.matchers) {
            str(m.name());
            w.Int(static_cast<int>(m.op()));
            str(m.value());
        }
        w.EndArray();
    }
    w.EndArray();
    return sb.GetString();
}

bool Silences::load(std::string_view json) {
    by_id_.clear();
    rapidjson::Document doc;
    doc.Parse(json.data(), json.size());
    if (doc.HasParseError() || !doc.IsArray()) return false;
    std::map<std::string, core::Silence> loaded;
    for (const auto& v : doc.GetArray()) {
        if (!v.IsArray() || v.Size() < 6 || (v.Size() - 6) % 3 != 0) return false;
        auto text = [&v](rapidjson::SizeType i, std::string& out) {
            if (!v[i].IsString()) return false;
            out.assign(v[i].GetString(), v[i].GetStringLength());
            return true;
        };
        auto time = [&v](rapidjson::SizeType i, core::TimePoint& out) {
            if (!v[i].IsInt64()) return false;
            out = core::TimePoint(core::Duration(v[i].GetInt64()));
            return true;
        };
        core::Silence s;
        if (!text(0, s.id) || !time(1, s.starts_at) || !time(2, s.ends_at) ||
            !time(3, s.updated_at) || !text(4, s.created_by) || !text(5, s.comment)) {
            return false;
        }
        for (rapidjson::SizeType i = 6; i < v.Size(); i += 3) {
            std::string name, value;
            if (!text(i, name) || !v[i + 1].IsInt() || !text(i + 2, value)) return false;
            int op = v[i + 1].GetInt();
            if (op < 0 || op > static_cast<int>(core::MatchOp::kNotRegex)) return false;
            auto m = core::Matcher::make(name, static_cast<core::MatchOp>(op), value);
            if (!m) return false;
            s.matchers.push_back(std::move(*m));
        }
        std::string id = s.id;
        loaded.emplace(std::move(id), std::move(s));
    }
    by_id_ = std::move(loaded);
    return true;
}

}  // namespace alertbridge::pipeline::incident
