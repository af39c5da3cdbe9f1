#include "adapters/email/rule_pack.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include <fmt/ranges.h>

#include "adapters/email/generic_rule.hpp"
#include "adapters/email/rule_pack_model.hpp"
#include "adapters/email/vendor_time.hpp"
#include "plugin/core/label_set.hpp"
#include "plugin/core/text.hpp"
#include "plugin/core/time.hpp"

namespace alertbridge::email {

using pack::kMailFields;
using pack::render;
using pack::shown;
using pack::trim;

core::Result<RuleResult> RulePack::apply(const MailText& mail, const std::string& from,
                                         core::TimePoint received_at,
                                         const RuleOptions& opt) const {
    std::string attachments;
    for (const auto& n : mail.attachment_names) {
        attachments += attachments.empty() ? n : ", " + n;
    }
    const std::string topic = uses_topic ? withoutStatusWords(mail.subject, status_words) : "";
    auto mail_field = [&](std::string_view which) -> const std::string& {
        if (which == "subject") return mail.subject;
        if (which == "topic") return topic;
        if (which == "from") return from;
        if (which == "attachments") return attachments;
        return mail.body;
    };
    // The short texts first: most packs decline on their subject.
    for (std::string_view which : {"subject", "from", "attachments", "body"}) {
        auto it = match.find(which);
        if (it == match.end()) continue;
        if (!RE2::PartialMatch(mail_field(which), *it->second)) {
            return core::Error{
                fmt::format("{} does not match /{}/", which, shown(it->second->pattern()))};
        }
    }

    Fields fields;
    std::vector<FieldOrigin> origins;
    for (const auto& f : this->fields) {
        const Pair* found = mail.pairs.firstWithValue(f.normalized);
        std::string value = found != nullptr ? found->value : "";
        if (found != nullptr && f.re) {
            re2::StringPiece whole, group;
            if (f.re->NumberOfCapturingGroups() > 0
                    ? RE2::PartialMatch(value, *f.re, &group)
                    : f.re->Match(value, 0, value.size(), RE2::UNANCHORED, &whole, 1)) {
                value = trim(f.re->NumberOfCapturingGroups() > 0
                                 ? std::string_view(group.data(), group.size())
                                 : std::string_view(whole.data(), whole.size()));
            } else {
                value.clear();
            }
        }
        if (value.empty()) {
            if (!f.required) continue;
            return core::Error{fmt::format("matched, but has no {} field (keys: {})", f.name,
                                           fmt::join(f.keys, ", "))};
        }
        origins.push_back(FieldOrigin{f.name, value, describe(*found)});
        fields[f.name] = std::move(value);
    }
    std::vector<re2::StringPiece> groups;
    for (const auto& x : extract) {
        static const std::string kNone;
        const std::string* source = &kNone;  // a field captured earlier, else the mail's own
        if (auto found = fields.find(x.in); found != fields.end()) {
            source = &found->second;
        } else if (std::find(kMailFields.begin(), kMailFields.end(), x.in) != kMailFields.end()) {
            source = &mail_field(x.in);
        }
        const std::string& text = *source;
        groups.assign(static_cast<std::size_t>(x.re->NumberOfCapturingGroups()) + 1, {});
        if (!x.re->Match(text, 0, text.size(), RE2::UNANCHORED, groups.data(),
                         static_cast<int>(groups.size()))) {
            if (x.optional) continue;
            return core::Error{
                fmt::format("matched, but {} has no match for /{}/", x.in, shown(x.re->pattern()))};
        }
        // Copied out before any is stored: a capture may overwrite the field it reads.
        std::vector<std::pair<const std::string*, std::string>> captured;
        for (const auto& [index, name] : x.groups) {
            const auto& g = groups[static_cast<std::size_t>(index)];
            if (g.data() == nullptr) continue;
            auto value = trim(std::string_view(g.data(), g.size()));
            if (!value.empty()) captured.emplace_back(&name, std::move(value));
        }
        for (auto& [name, value] : captured) {
            origins.push_back(FieldOrigin{*name, value, fmt::format("regex in {}", x.in)});
            fields[*name] = std::move(value);
        }
    }

    kainjow::mustache::data data;
    data.set("subject", mail.subject);
    data.set("from", from);
    data.set("body", mail.body);
    if (!attachments.empty()) data.set("attachments", attachments);
    if (uses_topic) data.set("topic", topic);
    for (const auto& [k, v] : fields) data.set(k, v);
    auto first = [&](const std::vector<std::string>& templates) {
        for (const auto& t : templates) {
            auto s = render(t, data);
            if (!s.empty()) return s;
        }
        return std::string();
    };

    RuleResult out;
    out.rule = name;
    out.file = file;
    out.fields = std::move(origins);
    core::Alert& a = out.alert;
    a.origin = core::Origin{std::string(kInput), core::SourceKind::kEmail, received_at, 0};

    // The status: the pack's word exactly, else a status word within it, else one in the
    // subject (status_words.hpp), else firing.
    std::optional<bool> resolved_by;
    const std::string word = first(status_from);
    if (!word.empty()) {
        auto w = core::asciiLower(word);
        if (resolved_words.count(w) > 0) resolved_by = true;
        if (firing_words.count(w) > 0) resolved_by = false;
        if (!resolved_by) {
            if (auto hit = findStatus(word, status_words)) {
                resolved_by = hit->status == Status::kResolved;
            }
        }
    }
    if (!resolved_by) {
        if (auto hit = findStatus(mail.subject, status_words)) {
            resolved_by = hit->status == Status::kResolved;
        } else if (!word.empty() && !firing_words.empty()) {
            out.warnings.push_back(fmt::format(
                "status word \"{}\" is neither firing nor resolved; taken as firing", word));
        }
    }
    const bool resolved = resolved_by.value_or(false);

    // Severity: a word of the map exactly, else a map word within the text ("Critical (5)"),
    // else a common severity word within it, else the default.
    std::string severity_raw;
    a.severity = severity_default;
    bool severity_known = false;
    std::vector<std::string> severity_texts;
    for (const auto& t : severity_from) {
        auto word = render(t, data);
        if (word.empty()) continue;
        if (severity_raw.empty()) severity_raw = word;
        if (auto it = severity_map.find(core::asciiLower(word)); it != severity_map.end()) {
            a.severity = it->second;
            severity_raw = word;
            severity_known = true;
            break;
        }
        severity_texts.push_back(std::move(word));
    }
    for (const auto* list : {&severity_words, &commonSeverityWords()}) {
        for (const auto& text : severity_texts) {
            if (severity_known) break;
            if (auto s = findSeverity(text, *list)) {
                a.severity = *s;
                severity_raw = text;
                severity_known = true;
            }
        }
    }
    if (!severity_raw.empty() && !severity_known) {
        out.warnings.push_back(fmt::format("severity word \"{}\" is not in the map; {} is used",
                                           severity_raw, core::severityName(a.severity)));
    }

    for (const auto& [k, t] : labels) {
        auto v = render(t, data);
        if (!v.empty()) a.labels.set(k, v);
    }
    a.labels.set("source", source);
    a.labels.set("email_rule", name);
    a.labels.set("severity", core::severityName(a.severity));
    for (const auto& k : identity) {
        if (const auto* v = a.labels.get(k)) a.identity_labels.set(k, *v);
    }

    for (const auto& [k, t] : annotations) {
        auto v = render(t, data);
        if (!v.empty()) a.annotations.set(k, v);
    }
    auto summary_text = render(summary, data);
    if (summary_text.empty()) summary_text = mail.subject.empty() ? "(no subject)" : mail.subject;
    a.annotations.set("summary", summary_text);
    if (!a.annotations.contains("description")) {
        auto d = description.empty() ? mail.body : render(description, data);
        if (!d.empty()) a.annotations.set("description", clipText(d, kMaxDescriptionBytes));
    }
    if (!severity_raw.empty()) a.annotations.set("severity_raw", severity_raw);
    if (!mail.subject.empty()) a.annotations.set("email_subject", mail.subject);
    if (!from.empty()) a.annotations.set("email_from", from);
    if (!mail.message_id.empty()) a.annotations.set("email_message_id", mail.message_id);
    if (mail.attachments > 0) {
        a.annotations.set("email_attachments",
                          attachments.empty() ? std::to_string(mail.attachments) : attachments);
    }

    ZoneHint hint;
    if (mail.date) hint.date_header_offset_minutes = mail.date_offset_minutes;
    hint.fallback = opt.timezone;
    hint.ignore_zone = ignore_zone;
    auto first_time = [&](const std::vector<std::string>& templates,
                          const char* what) -> std::optional<core::TimePoint> {
        for (const auto& t : templates) {
            auto s = render(t, data);
            if (s.empty()) continue;
            auto parsed = time_format.empty() ? parseVendorTime(s, hint)
                                              : parseVendorTime(s, time_format, hint);
            if (parsed) return *parsed;
            out.warnings.push_back(
                fmt::format("{} \"{}\" is not a time: {}", what, s, parsed.error()));
        }
        return std::nullopt;
    };
    auto starts = first_time(starts_at, "starts_at");
    std::optional<core::TimePoint> ends;
    if (resolved) {
        ends = first_time(ends_at, "ends_at");
        if (!ends) ends = mail.date.value_or(received_at);
        if (!starts && !duration.empty()) {
            auto text = render(duration, data);
            if (auto d = parseVendorDuration(text); d) {
                starts = *ends - *d;
            } else if (!text.empty()) {
                out.warnings.push_back(
                    fmt::format("duration \"{}\" is not a duration: {}", text, d.error()));
            }
        }
    }
    // A recovery that does not say when the problem began began, as far as we know, when it
    // ended; otherwise the Date header, else the time of receipt.
    if (resolved && !starts) starts = ends;
    a.starts_at = starts.value_or(mail.date.value_or(received_at));
    if (resolved) {
        a.ends_at = std::max(*ends, a.starts_at);
    } else if (resolve_timeout) {
        a.ends_at = received_at + *resolve_timeout;
    }
    return out;
}

RuleSet::RuleSet() = default;
RuleSet::~RuleSet() = default;

std::string checkPack(const RuleSource& source, std::vector<config::ConfigError>& errors) {
    auto pack = compilePack(source, errors);
    return pack ? pack->name : std::string();
}

std::shared_ptr<const RuleSet> RuleSet::compile(const std::vector<RuleSource>& user,
                                                const std::vector<RuleSource>& builtin,
                                                const std::vector<std::string>& disabled,
                                                RuleOptions options,
                                                std::vector<config::ConfigError>& errors) {
    auto set = std::make_shared<RuleSet>();
    set->options_ = options;
    std::set<std::string> names;
    for (const auto& src : user) {
        auto pack = compilePack(src, errors);
        if (!pack) continue;
        if (!names.insert(pack->name).second) {
            errors.push_back(config::ConfigError{
                src.file, 1, "name", fmt::format("another rule pack is named \"{}\"", pack->name)});
            continue;
        }
        set->packs_.push_back(std::move(pack));
    }
    for (const auto& src : builtin) {
        auto pack = compilePack(src, errors);
        if (!pack) continue;
        bool off = std::find(disabled.begin(), disabled.end(), pack->name) != disabled.end();
        if (off || !names.insert(pack->name).second) continue;  // disabled, or a user's replaces it
        set->packs_.push_back(std::move(pack));
    }
    return set;
}

namespace {

std::string senderOf(const MailText& mail, std::string_view envelope_from) {
    return senderAddress(!mail.from.empty()          ? std::string_view(mail.from)
                         : !mail.return_path.empty() ? std::string_view(mail.return_path)
                                                     : envelope_from);
}

}  // namespace

std::vector<RuleMiss> RuleSet::explain(const MailText& mail, std::string_view envelope_from,
                                       core::TimePoint received_at) const {
    std::string from = senderOf(mail, envelope_from);
    std::vector<RuleMiss> out;
    for (const auto& pack : packs_) {
        auto r = pack->apply(mail, from, received_at, options_);
        out.push_back(RuleMiss{pack->name, r ? std::string() : r.error()});
    }
    return out;
}

RuleResult RuleSet::apply(const MailText& mail, std::string_view envelope_from,
                          core::TimePoint received_at) const {
    std::string from = senderOf(mail, envelope_from);
    std::vector<RuleMiss> misses;
    for (const auto& pack : packs_) {
        auto r = pack->apply(mail, from, received_at, options_);
        if (r) {
            r->misses = std::move(misses);
            r->warnings.insert(r->warnings.begin(), mail.warnings.begin(), mail.warnings.end());
            if (r->alert.starts_at > received_at) r->alert.starts_at = received_at;
            return std::move(r).value();
        }
        misses.push_back(RuleMiss{pack->name, r.error()});
    }
    RuleResult out;
    out.warnings = mail.warnings;
    out.alert = genericAlert(mail, envelope_from, received_at,
                             GenericOptions{options_.generic_resolve_timeout, options_.timezone},
                             &out.fields, &out.warnings);
    out.rule = "generic";
    out.misses = std::move(misses);
    return out;
}

std::vector<std::string> RuleSet::names() const {
    std::vector<std::string> out;
    out.reserve(packs_.size());
    for (const auto& p : packs_) out.push_back(p->name);
    return out;
}

RuleResult decodeMessage(const RuleSet& rules, std::string_view raw, std::string_view envelope_from,
                         core::TimePoint received_at, MailText* mail) {
    auto parsed = parseMail(raw);
    MailText text = parsed ? std::move(parsed).value() : MailText{};
    auto result = rules.apply(text, envelope_from, received_at);
    if (mail != nullptr) *mail = std::move(text);
    return result;
}

}  // namespace alertbridge::email
