// device_pull_response: the tablet's handling of what a server answers to a
// pull. A fresh device core (hemma::mobile::Device on an in-memory SQLite
// store, enrolled as nurse-karin with one note waiting) syncs against a
// transport that acknowledges the push and answers the pulls with the
// input's pages.
//
// Input: up to kMaxPages pages, each a 2-byte little-endian length and that
// many bytes of a serialized sync::PullResponse (the last page may run to the
// end of the input). Pulls after the last page get an empty page that ends
// the sync.
//
// Invariants: no crash; whatever the pages held, every read the nurse can
// make afterwards (status, notes, visits, conflicts, rejected operations, and
// each held patient's messages and history) succeeds: no stored row may make
// a read fail. A page the device refuses may end the sync with an error.

#include <google/protobuf/stubs/logging.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>

#include "hemma/mobile/device.hpp"
#include "hemma/sync/protocol.hpp"

namespace {

using namespace hemma;

constexpr std::int64_t kNowMs = 1'795'860'000'000;  // 2026-11-28T08:00:00Z
constexpr std::size_t kMaxPages = 4;

class FixedClock final : public mobile::Clock {
 public:
  std::int64_t nowMs() override { return kNowMs; }
};

class PageTransport final : public mobile::Transport {
 public:
  std::deque<sync::PullResponse> pages;

  sync::PushResponse push(const sync::PushRequest& request) override {
    sync::PushResponse response;
    response.set_protocol_version(sync::kProtocolVersion);
    response.set_server_time_ms(kNowMs);
    std::uint64_t seq = 0;
    for (const auto& op : request.operations()) {
      auto& ack = *response.add_acks();
      ack.set_operation_id(op.id());
      ack.set_server_seq(++seq);
    }
    return response;
  }
  sync::PullResponse pull(const sync::PullRequest& request) override {
    if (pages.empty()) {
      sync::PullResponse end;
      end.set_protocol_version(sync::kProtocolVersion);
      end.set_next_cursor(request.after_seq());
      end.set_server_time_ms(kNowMs);
      return end;
    }
    auto page = std::move(pages.front());
    pages.pop_front();
    return page;
  }
};

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what.c_str());
  std::abort();
}

template <typename Read>
void mustRead(const char* what, Read&& read) {
  try {
    read();
  } catch (const std::exception& e) {
    fail(std::string("after the pull, ") + what + " fails: " + e.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Pages with invalid UTF-8 in a string are refused by the parser; its log
  // line for each would drown libFuzzer's output.
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  PageTransport transport;
  std::size_t at = 0;
  while (at + 2 <= size && transport.pages.size() < kMaxPages) {
    std::size_t length = data[at] | (static_cast<std::size_t>(data[at + 1]) << 8);
    at += 2;
    length = std::min(length, size - at);
    sync::PullResponse page;
    if (!page.ParseFromArray(data + at, static_cast<int>(length))) return 0;
    transport.pages.push_back(std::move(page));
    at += length;
  }
  if (transport.pages.empty()) return 0;

  FixedClock clock;
  mobile::Device device(":memory:", clock);
  device.enrol("nurse-karin-tablet", "nurse-karin");
  try {
    device.writeNote("patient-01", "", "Walked to the kitchen with support");
  } catch (const std::invalid_argument&) {
    // The entry rules may refuse a note before the patient arrived.
  }

  mobile::SyncClient::Options options;
  options.attempts = 1;
  options.sleep = [](std::chrono::milliseconds) {};
  try {
    (void)device.sync(transport, options);
  } catch (const std::exception&) {
    // A page the device cannot store ends the sync; the reads below must
    // still work on what it kept.
  }

  mustRead("status", [&] { (void)device.status(); });
  mustRead("notes", [&] { (void)device.notes(); });
  mustRead("visits", [&] { (void)device.visits(); });
  mustRead("conflicts", [&] { (void)device.conflicts(); });
  mustRead("rejected", [&] { (void)device.rejected(); });
  std::vector<std::string> held;
  mustRead("held patients", [&] { held = device.store().heldPatients(); });
  for (const auto& patient : held) {
    mustRead("messages", [&] { (void)device.messages(patient); });
    mustRead("history", [&] { (void)device.history(patient); });
  }
  return 0;
}
