// IncidentBook and silences: a change applies at once to the firing alerts it starts or
// stops muting; a silence's start and end are the book's timers (see notify.cpp's advance).
#include "plugin/pipeline/incident/book.hpp"

namespace alertbridge::pipeline::incident {

SilenceOutcome IncidentBook::setSilence(core::Silence s, const std::string& new_id,
                                        core::TimePoint now, std::vector<core::Notification>* out) {
    advance(now, out);
    auto r = silences_.set(std::move(s), new_id, now);
    if (r.ok()) resilence(now);
    advance(now, out);
    return r;
}

SilenceOutcome IncidentBook::expireSilence(const std::string& id, core::TimePoint now,
                                           std::vector<core::Notification>* out) {
    advance(now, out);
    auto r = silences_.expire(id, now);
    if (r.ok()) resilence(now);
    advance(now, out);
    return r;
}

// Decides again every firing member whose silence changed: newly muted, or muted by a
// silence that no longer mutes it.
void IncidentBook::resilence(core::TimePoint now) {
    silences_.collect(now);
    silence_edge_ = silences_.nextEdge(now);
    for (auto& [id, inc] : open_) {
        bool released = false;
        for (auto& [fp, m] : inc.members) {
            if (!m.firing) continue;
            auto by = silences_.mutedBy(m.labels, now);
            const bool was = m.suppressed.starts_with("silence:");
            const bool stale = was && std::string_view(m.suppressed).substr(8) != by;
            if (!stale && !(m.suppressed.empty() && !by.empty())) continue;
            const bool held = !m.suppressed.empty();
            decide(inc, m, now);
            if (held && m.suppressed.empty()) released = true;
        }
        if (released) review(inc, now, rules_->config().release_wait);
    }
}

}  // namespace alertbridge::pipeline::incident
