#include "formula/formula.hpp"

#include "formula/ast.hpp"

namespace emu::formula {

struct Formula::Impl {
  std::unique_ptr<detail::Node> root;
};

Formula::Formula(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Formula::Formula(Formula&&) noexcept = default;
Formula& Formula::operator=(Formula&&) noexcept = default;
Formula::~Formula() = default;

Formula Formula::compile(std::string_view text, const Table& table, bool allow_field_ids) {
  auto impl = std::make_unique<Impl>();
  impl->root = detail::parse(text, table, allow_field_ids);
  return Formula(std::move(impl));
}

Json Formula::evaluate(const RecordContext& record) const {
  return detail::to_cell(detail::evaluate(*impl_->root, record));
}

bool Formula::matches(const RecordContext& record) const {
  return detail::truthy(detail::evaluate(*impl_->root, record));
}

}  // namespace emu::formula
