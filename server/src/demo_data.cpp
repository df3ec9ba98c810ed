#include "hemma/server/demo_data.hpp"

#include "hemma/sync/hlc.hpp"
#include "hemma/sync/operation.hpp"
#include "hemma/sync/protocol.hpp"
#include "hemma/sync/time_format.hpp"

namespace hemma::server {

namespace {

struct DemoNote {
  const char* patientId;
  const char* authorId;
  const char* text;
};

constexpr DemoNote kNotes[] = {
    {"patient-astrid", "nurse-karin", "Welcome visit done. Key box code is in the access notes; the cat must stay inside."},
    {"patient-bertil", "physician-sara", "Reviewed medication list with the patient; no changes. Next review in four weeks."},
    {"patient-astrid", "coordinator-lena", "Care team set up with the municipality's home care and the region's physician."},
};

}  // namespace

std::size_t loadDemoData(SyncService& sync, std::int64_t nowMs) {
  constexpr const char* kDevice = "demo-seed";
  sync::PushRequest request;
  request.set_protocol_version(sync::kProtocolVersion);
  request.set_device_id(kDevice);
  std::uint64_t counter = 0;
  for (const auto& demo : kNotes) {
    sync::Operation& op = *request.add_operations();
    op.set_id(sync::makeOperationId(kDevice, ++counter));
    op.set_author_id(demo.authorId);
    op.set_device_id(kDevice);
    // Fixed times keep the seed operations identical across runs.
    const std::int64_t written = 1'790'000'000'000 + static_cast<std::int64_t>(counter) * 60'000;
    op.set_hlc(sync::makeHlc(written, 0));
    op.set_patient_id(demo.patientId);
    op.set_entity_type("visit_note");
    op.set_entity_id(op.id());
    op.set_recorded_at(sync::formatRfc3339(written));
    auto& note = *op.mutable_append()->mutable_note();
    note.set_id(op.id());
    note.set_patient_id(demo.patientId);
    note.set_author_id(demo.authorId);
    note.set_text(demo.text);
    note.set_written_at(op.recorded_at());
  }
  const auto response = sync.push(request, nowMs);
  std::size_t added = 0;
  for (const auto& ack : response.acks()) added += ack.duplicate() ? 0 : 1;
  return added;
}

}  // namespace hemma::server
