#pragma once
// A fresh directory under the system temp dir (or in RAM), removed with its contents when
// the TempDir goes out of scope.

#include <filesystem>
#include <string>

namespace hemma::test {

class TempDir {
 public:
  enum Storage {
    OnDisk,
    // In RAM (/dev/shm) where the machine has it, else on disk: for tests
    // that commit thousands of transactions and do not test power loss.
    InMemory,
  };
  explicit TempDir(Storage storage = OnDisk);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return m_path; }
  std::string file(const std::string& name) const { return (m_path / name).string(); }

 private:
  std::filesystem::path m_path;
};

}  // namespace hemma::test
