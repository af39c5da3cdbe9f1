#pragma once
// The incident stage: hands what dedupe saw change to the IncidentBook, which the pipeline
// owns (so incidents outlive a reload of the stages). Passes the batch on unchanged: the
// state sinks still mirror every alert; what reaches people comes from the book.

#include "plugin/pipeline/incident/book.hpp"
#include "plugin/pipeline/stage.hpp"

namespace alertbridge::pipeline::incident {

class IncidentStage final : public Stage {
  public:
    // The book's messages go to `messages`; the pipeline turns them into outbox rows.
    IncidentStage(IncidentBook& book, std::vector<core::Notification>& messages)
        : book_(book), messages_(messages) {}
    std::string_view name() const override { return "incidents"; }
    void run(core::AlertBatch& batch, Context& ctx) override {
        book_.observe(batch, ctx.now, &messages_);
    }

  private:
    IncidentBook& book_;
    std::vector<core::Notification>& messages_;
};

}  // namespace alertbridge::pipeline::incident
