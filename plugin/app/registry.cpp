#include "plugin/app/registry.hpp"

#include <algorithm>

#include "adapters/alertmanager/codec.hpp"
#include "adapters/alertmanager/push.hpp"
#include "adapters/email/generic_rule.hpp"
#include "adapters/email/mime_text.hpp"
#include "adapters/email/rule_pack.hpp"
#include "adapters/nightingale/codec.hpp"
#include "adapters/nightingale/push.hpp"
#include "adapters/webhook/codec.hpp"
#include "adapters/webhook/push.hpp"

namespace alertbridge::app {

const std::vector<InputDef>& inputs() {
    static const std::vector<InputDef> kInputs = {
        {alertmanager::kApiInput, "/api/v2/alerts",
         [](std::string_view body, core::TimePoint at, const DecodeContext& ctx) {
             return alertmanager::decodeApiV2(
                 body, at, {ctx.config.global.resolve_timeout, ctx.config.intake.label_names});
         },
         nullptr, /*partial_is_client_error=*/true},
        {alertmanager::kWebhookInput, "/webhook/alertmanager",
         [](std::string_view body, core::TimePoint at, const DecodeContext& ctx) {
             return alertmanager::decodeWebhook(body, at, ctx.config.intake.label_names);
         },
         nullptr},
        {nightingale::kInput, "/webhook/nightingale",
         [](std::string_view body, core::TimePoint at, const DecodeContext&) {
             return nightingale::decodeEvents(body, at);
         },
         nightingale::scrubBody},
        // Email arrives over SMTP, not HTTP: no path. Every message becomes an alert: a
        // vendor pack's, else the generic rule's.
        {email::kInput, "",
         [](std::string_view body, core::TimePoint at, const DecodeContext& ctx) {
             return core::Result<core::Decoded>(
                 core::Decoded{{email::decodeMessage(ctx.email_rules, body, "", at).alert}, {}});
         },
         nullptr},
    };
    return kInputs;
}

const InputDef* findInput(std::string_view id) {
    for (const auto& in : inputs()) {
        if (in.id == id) return &in;
    }
    return nullptr;
}

std::vector<OutputDef> outputs(const config::Config& cfg) {
    std::vector<OutputDef> out;
    for (const auto& am : cfg.outputs.alertmanager) {
        out.push_back(OutputDef{am.name,
                                std::make_shared<alertmanager::PushEncoder>(
                                    am.name, cfg.global.marker_label, cfg.global.instance,
                                    am.max_alerts_per_push, am.utf8_label_names, am.incidents),
                                [&am] { return std::make_unique<alertmanager::PushTransport>(am); },
                                am.max_alerts_per_push, am.backoff, am.resend_interval,
                                am.max_backlog_bytes});
    }
    for (const auto& n9e : cfg.outputs.nightingale) {
        // n9e keeps an event active until its recovery arrives: nothing to re-send.
        out.push_back(OutputDef{n9e.name,
                                std::make_shared<nightingale::EventEncoder>(
                                    n9e, cfg.global.marker_label, cfg.global.instance),
                                [&n9e] { return std::make_unique<nightingale::EventPush>(n9e); }, 1,
                                n9e.backoff, core::Duration::zero(), n9e.max_backlog_bytes});
    }
    for (const auto& wh : cfg.outputs.webhook) {
        // A notification sink: each notification once, never re-sent.
        out.push_back(OutputDef{
            wh.name,
            std::make_shared<webhook::NotificationEncoder>(
                wh, cfg.global.marker_label, cfg.global.instance, cfg.global.external_url),
            [&wh] { return std::make_unique<webhook::WebhookPush>(wh); },
            webhook::NotificationEncoder::kAllInOneRow, wh.backoff, core::Duration::zero(),
            wh.max_backlog_bytes});
    }
    return out;
}

std::size_t dropOwnMarker(core::AlertBatch& batch, const config::GlobalConfig& global) {
    auto before = batch.size();
    batch.erase(std::remove_if(batch.begin(), batch.end(),
                               [&](const core::Alert& a) {
                                   const auto* v = a.labels.get(global.marker_label);
                                   return v != nullptr && *v == global.instance;
                               }),
                batch.end());
    return before - batch.size();
}

}  // namespace alertbridge::app
