#pragma once
// An add-wins (observed-remove) set of strings: care team members, completed
// visit tasks.
//
// Every add is tagged with its operation id. A remove names the adds of the
// element its author had seen, and only those stop counting, so an add made
// concurrently with a remove survives it. An element is a member iff it has an
// add that no remove has observed. Applying the same add or remove twice, or
// in any order, gives the same set: a remove may arrive before the add it
// observed.
//
// Not thread-safe; copyable and movable.

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace hemma::sync {

class AddWinsSet {
 public:
  // Records an add of `element` by operation `addOpId`. Returns true when
  // this made `element` a member.
  bool add(std::string_view element, std::string_view addOpId);

  // Records that a remove of `element` had observed the add `observedAddId`;
  // call once per id in SetRemove.observed_add_ids. Returns true when this
  // made `element` stop being a member.
  bool remove(std::string_view element, std::string_view observedAddId);

  bool contains(std::string_view element) const;

  // The members, sorted bytewise.
  std::vector<std::string> members() const;

  // The add ids of `element` that still count: what a client puts into
  // observed_add_ids to remove it.
  std::vector<std::string> liveAddIds(std::string_view element) const;

 private:
  struct Element {
    std::set<std::string, std::less<>> liveAdds;
    // Every add id some remove observed, including adds not seen yet.
    std::set<std::string, std::less<>> removedAdds;
  };

  std::map<std::string, Element, std::less<>> m_elements;
};

}  // namespace hemma::sync
