#pragma once
// The server's materialised fields and conflict records, kept in step with
// the operation log: for every stored field write, the field's current value
// and its conflict records are rebuilt from all its writes under the merge
// rules (sync/field_history.hpp), so they depend only on which writes exist.
//
// Precondition for apply(): inside the transaction that stored `op`, on the
// same session. Not thread-safe on its own: OperationLog serialises appends.

#include <Poco/Data/Session.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hemma/sync.pb.h"

namespace hemma::server {

struct FieldKey {
  std::string patientId;
  std::string entityType;
  std::string entityId;
  std::string field;
};

struct FieldRow {
  FieldKey key;
  std::string value;
  std::uint64_t hlc = 0;
  std::string opId;
  std::string authorId;
  bool merged = false;
};

struct ConflictQuery {
  std::string patientId;  // empty: all patients
  bool openOnly = true;
};

class FieldStore {
 public:
  // Creates the tables if missing.
  static void migrate(Poco::Data::Session& session);

  // Updates the field `op` writes (no-op for other kinds of operation).
  static void apply(Poco::Data::Session& session, const sync::Operation& op);

  static std::vector<sync::Conflict> conflicts(Poco::Data::Session& session, const ConflictQuery& query);
  static std::optional<sync::Conflict> conflict(Poco::Data::Session& session, const std::string& id);
  static std::optional<FieldRow> field(Poco::Data::Session& session, const FieldKey& key);
  static std::vector<FieldRow> fields(Poco::Data::Session& session, const std::string& patientId,
                                      const std::string& entityType);
};

}  // namespace hemma::server
