#include "support/temp_dir.hpp"

#include <cstdlib>
#include <stdexcept>

namespace hemma::test {

TempDir::TempDir(Storage storage) {
  std::error_code ec;
  const std::filesystem::path base = storage == InMemory && std::filesystem::is_directory("/dev/shm", ec)
                                         ? std::filesystem::path("/dev/shm")
                                         : std::filesystem::temp_directory_path();
  std::string pattern = (base / "hemma-test-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("cannot create a temporary directory");
  m_path = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(m_path, ignored);
}

}  // namespace hemma::test
