#pragma once
// What the server derives from the append-only entries as they are stored,
// so the web reads it without replaying the log: a tablet's proposed plan
// change becomes a proposal in the physician's queue, each set of vital
// signs a point of the patient's NEWS2 trend, vital signs scoring medium or
// high and urgent messages become alerts, and checklist answers count
// towards their visit.
//
// Precondition for apply(): inside the transaction that stored `op` (so a
// pushed proposal and its queue entry are stored together or not at all),
// on the same session, once per newly stored operation. Not thread-safe on
// its own: OperationLog serialises appends.

#include <Poco/Data/Session.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hemma/api.pb.h"
#include "hemma/sync.pb.h"

namespace hemma::server {

// One derived row with the author of the entry it came from, so readers can
// apply the same visibility rules (consent, blocks) as for the entry itself.
template <typename Message>
struct Authored {
  std::string patientId;
  std::string authorId;
  Message item;
};

class EntryProjection {
 public:
  // Creates the tables if missing (the proposals table among them).
  static void migrate(Poco::Data::Session& session);

  // Why `op`, not stored yet, cannot be projected, or nullopt. A proposal's
  // id is its entry's id, chosen by the device and global: a second entry
  // with an id already queued would be stored but never queued, so it is
  // refused ("append.proposed_change.id: ..."). Same precondition as apply().
  static std::optional<std::string> clash(Poco::Data::Session& session, const sync::Operation& op);

  static void apply(Poco::Data::Session& session, const sync::Operation& op, std::uint64_t seq);

  // The patient's latest `limit` NEWS2 points, oldest first.
  static std::vector<Authored<api::News2Point>> news2(Poco::Data::Session& session, const std::string& patientId,
                                                      std::uint32_t limit);
  // Up to `limit` alerts with seq > `afterSeq`, in seq order. Names are not
  // filled in.
  static std::vector<Authored<api::Alert>> alertsAfter(Poco::Data::Session& session, std::uint64_t afterSeq,
                                                       std::uint32_t limit);
  // The activities answered (done, not done or refused) at each visit of
  // the patient: visit id -> activity ids.
  static std::map<std::string, std::set<std::string>> answeredTasks(Poco::Data::Session& session,
                                                                    const std::string& patientId);
};

}  // namespace hemma::server
