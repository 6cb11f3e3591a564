#include "model.hpp"

#include <algorithm>

namespace emu {

const Field* Table::field_by_id(std::string_view field_id) const {
  const auto it =
      std::find_if(fields.begin(), fields.end(), [&](const Field& f) { return f.id == field_id; });
  return it == fields.end() ? nullptr : &*it;
}

const Field* Table::field_by_name(std::string_view name) const {
  const auto it =
      std::find_if(fields.begin(), fields.end(), [&](const Field& f) { return f.name == name; });
  return it == fields.end() ? nullptr : &*it;
}

const Field* Table::find_field(std::string_view id_or_name) const {
  const Field* by_id = field_by_id(id_or_name);
  return by_id != nullptr ? by_id : field_by_name(id_or_name);
}

Field* Table::mutable_field(std::string_view field_id) {
  return const_cast<Field*>(
      field_by_id(field_id));  // NOLINT(cppcoreguidelines-pro-type-const-cast)
}

const View* Table::find_view(std::string_view id_or_name) const {
  for (const View& v : views) {
    if (v.id == id_or_name) {
      return &v;
    }
  }
  for (const View& v : views) {
    if (v.name == id_or_name) {
      return &v;
    }
  }
  return nullptr;
}

const Record* Table::find_record(std::string_view record_id) const {
  const auto it = seq_by_id.find(std::string(record_id));
  if (it == seq_by_id.end()) {
    return nullptr;
  }
  const auto rec = records.find(it->second);
  return rec == records.end() ? nullptr : &rec->second;
}

Record* Table::mutable_record(std::string_view record_id) {
  return const_cast<Record*>(
      find_record(record_id));  // NOLINT(cppcoreguidelines-pro-type-const-cast)
}

const Table* Base::find_table(std::string_view id_or_name) const {
  if (const Table* by_id = table_by_id(id_or_name); by_id != nullptr) {
    return by_id;
  }
  for (const Table& t : tables) {
    if (t.name == id_or_name) {
      return &t;
    }
  }
  return nullptr;
}

Table* Base::mutable_table(std::string_view id_or_name) {
  return const_cast<Table*>(
      find_table(id_or_name));  // NOLINT(cppcoreguidelines-pro-type-const-cast)
}

const Table* Base::table_by_id(std::string_view table_id) const {
  for (const Table& t : tables) {
    if (t.id == table_id) {
      return &t;
    }
  }
  return nullptr;
}

const Base* Workspace::find_base(std::string_view base_id) const {
  for (const Base& b : bases) {
    if (b.id == base_id) {
      return &b;
    }
  }
  return nullptr;
}

Base* Workspace::mutable_base(std::string_view base_id) {
  return const_cast<Base*>(find_base(base_id));  // NOLINT(cppcoreguidelines-pro-type-const-cast)
}

const Collaborator* Workspace::find_user(std::string_view user_id) const {
  for (const Collaborator& u : users) {
    if (u.id == user_id) {
      return &u;
    }
  }
  return nullptr;
}

}  // namespace emu
