#include "hemma/sync/add_wins_set.hpp"

namespace hemma::sync {

namespace {

template <typename Map>
auto& entryFor(Map& elements, std::string_view element) {
  auto it = elements.find(element);
  if (it == elements.end()) it = elements.emplace(std::string(element), typename Map::mapped_type{}).first;
  return it->second;
}

}  // namespace

bool AddWinsSet::add(std::string_view element, std::string_view addOpId) {
  Element& entry = entryFor(m_elements, element);
  if (entry.removedAdds.contains(addOpId)) return false;
  return entry.liveAdds.emplace(addOpId).second && entry.liveAdds.size() == 1;
}

bool AddWinsSet::remove(std::string_view element, std::string_view observedAddId) {
  Element& entry = entryFor(m_elements, element);
  entry.removedAdds.emplace(observedAddId);
  const auto live = entry.liveAdds.find(observedAddId);
  if (live == entry.liveAdds.end()) return false;
  entry.liveAdds.erase(live);
  return entry.liveAdds.empty();
}

bool AddWinsSet::contains(std::string_view element) const {
  const auto it = m_elements.find(element);
  return it != m_elements.end() && !it->second.liveAdds.empty();
}

std::vector<std::string> AddWinsSet::members() const {
  std::vector<std::string> result;
  for (const auto& [element, entry] : m_elements) {
    if (!entry.liveAdds.empty()) result.push_back(element);
  }
  return result;
}

std::vector<std::string> AddWinsSet::liveAddIds(std::string_view element) const {
  const auto it = m_elements.find(element);
  if (it == m_elements.end()) return {};
  return {it->second.liveAdds.begin(), it->second.liveAdds.end()};
}

}  // namespace hemma::sync
