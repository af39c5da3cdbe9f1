#pragma once
// Alertmanager API v2 silences on the wire (0.25's OpenAPI schema): the postableSilence a
// client sends, the gettableSilence it reads back, and the list filter. Errors carry the
// status and body Alertmanager answers, so amtool and kthxbye print what they expect.
// Pure functions; safe from any thread.

#include <string>
#include <string_view>
#include <vector>

#include "plugin/core/silence.hpp"

namespace alertbridge::alertmanager {

struct PostedSilence {
    core::Silence silence;  // with its id when the body names one (an update)
    int status = 200;       // not 200: refused, and `error_body` is the reply
    std::string error_body;
    bool ok() const { return status == 200; }
};

// Checks what the schema asks (422 {"code","message"}: a field required, matchers at least
// one) and what a silence must be (400 "silence invalid: ..."): valid matchers, at least one
// that does not match the empty string, a creator. Time checks that need `now` are the
// silences' own (pipeline/incident/silences.hpp).
PostedSilence decodePostableSilence(std::string_view body);

// gettableSilence: {id, status{state}, updatedAt, comment, createdBy, endsAt, matchers,
// startsAt}, as of `now`.
std::string encodeSilence(const core::Silence& s, core::TimePoint now);
// The list GET /api/v2/silences answers: active ones by end, then pending by start, then
// expired, latest end first.
std::string encodeSilences(std::vector<const core::Silence*> silences, core::TimePoint now);
// Whether a silence passes a ?filter= list: its matchers, read as labels (name -> value),
// satisfy every filter matcher.
bool silenceMatchesFilter(const core::Silence& s, const std::vector<core::Matcher>& filter);
// A JSON string (Go's encoder: the body Alertmanager writes for a plain error).
std::string jsonErrorString(std::string_view message);

}  // namespace alertbridge::alertmanager
