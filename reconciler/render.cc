#include "reconciler/render.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"

namespace tqs1::reconciler {
namespace {

using ::tqs1::v1::Action;
using ::tqs1::v1::Plan;

struct Palette {
  absl::string_view green, yellow, red, bold, dim, reset;
};

Palette MakePalette(bool color) {
  if (!color) return {"", "", "", "", "", ""};
  return {"\033[32m", "\033[33m", "\033[31m", "\033[1m", "\033[2m", "\033[0m"};
}

std::string Quote(absl::string_view s) { return absl::StrCat("\"", s, "\""); }

// "1 duplicate", "2 duplicates".
std::string Counted(uint64_t n, absl::string_view one, absl::string_view many) {
  return absl::StrCat(FormatCount(n), " ", n == 1 ? one : many);
}

std::string Delta(const Action& a) {
  std::vector<std::string> parts;
  if (a.add_size() > 0) parts.push_back("+" + FormatCount(a.add_size()));
  if (a.remove_size() > 0) parts.push_back("-" + FormatCount(a.remove_size()));
  return absl::StrJoin(parts, " ");
}

void AppendExamples(const google::protobuf::RepeatedPtrField<std::string>& v,
                    absl::string_view sign, int limit, std::string* out) {
  int shown = std::min(limit, v.size());
  for (int k = 0; k < shown; ++k) {
    absl::StrAppend(out, "        ", sign, " ", v[k], "\n");
  }
  if (shown > 0 && v.size() > shown) {
    absl::StrAppend(out, "        ... and ", FormatCount(v.size() - shown),
                    " more\n");
  }
}

}  // namespace

std::string RenderPlanText(const Plan& plan, const RenderOptions& options) {
  const Palette c = MakePalette(options.color);
  std::string out;
  absl::StrAppend(&out, c.bold, "Sync ", Quote(plan.sync_name()), c.reset,
                  ": collection ", Quote(plan.collection()), " to site ",
                  Quote(plan.site_name()));
  if (!plan.site_id().empty()) absl::StrAppend(&out, " (", plan.site_id(), ")");
  absl::StrAppend(&out, "\n\n");

  const tqs1::v1::InputReport& in = plan.inputs();
  absl::StrAppend(&out, "  Source: ", Counted(in.values(), "value", "values"),
                  " read, ", Counted(in.desired(), "address", "addresses"),
                  " to block (",
                  Counted(in.duplicates(), "duplicate", "duplicates"), ", ",
                  FormatCount(in.invalid()), " invalid, ",
                  FormatCount(in.never_blocked()), " never blocked)\n");
  for (const auto& [type, n] : in.source().skipped_types()) {
    absl::StrAppend(&out, "    skipped ", FormatCount(n),
                    " indicators of type ", Quote(type), "\n");
  }
  for (const auto& [status, n] : in.source().skipped_statuses()) {
    absl::StrAppend(&out, "    skipped ", FormatCount(n),
                    " indicators with status ", Quote(status), "\n");
  }
  int shown = std::min(options.rejected_examples, in.rejected_size());
  for (int k = 0; k < shown; ++k) {
    absl::StrAppend(&out, "    ", c.yellow, "rejected", c.reset, " ",
                    Quote(in.rejected(k).value()), ": ",
                    in.rejected(k).reason(), "\n");
  }
  uint64_t more = in.rejected_size() - shown + in.rejected_truncated();
  if (more > 0) {
    absl::StrAppend(&out, "    ... and ", FormatCount(more),
                    " more rejected (see the JSON plan)\n");
  }

  const tqs1::v1::ObservedReport& ob = plan.observed();
  absl::StrAppend(&out, "  Site: ", Counted(ob.rules(), "rule", "rules"), " (",
                  FormatCount(ob.managed()), " managed, ",
                  FormatCount(plan.conflicts_size()), " in conflict, ",
                  FormatCount(ob.foreign()), " other, ",
                  FormatCount(ob.inherited()), " inherited), ",
                  Counted(ob.blocked(), "address", "addresses"),
                  " blocked by managed rules\n");

  if (plan.conflicts_size() > 0) {
    absl::StrAppend(&out, "\n", c.bold, "Conflicts:", c.reset, "\n");
    for (const tqs1::v1::Conflict& conflict : plan.conflicts()) {
      absl::StrAppend(&out, "  ", c.yellow, "!", c.reset, " ",
                      Quote(conflict.name()), "  id ", conflict.rule_id(), ": ",
                      conflict.reason(), "\n");
    }
  }

  if (plan.actions_size() > 0) {
    absl::StrAppend(&out, "\n", c.bold, "Actions:", c.reset, "\n");
    size_t width = 0;
    std::vector<std::string> heads;
    for (const Action& a : plan.actions()) {
      std::string head;
      switch (a.kind()) {
        case tqs1::v1::ACTION_KIND_CREATE:
          head =
              absl::StrCat(c.green, "+ create", c.reset, " ", Quote(a.name()));
          break;
        case tqs1::v1::ACTION_KIND_UPDATE:
          head = absl::StrCat(c.yellow, "~ update", c.reset, " ",
                              Quote(a.name()), "  id ", a.rule_id());
          break;
        default:
          head = absl::StrCat(c.red, "- delete", c.reset, " ", Quote(a.name()),
                              "  id ", a.rule_id());
          break;
      }
      width = std::max(width, head.size());
      heads.push_back(std::move(head));
    }
    for (int k = 0; k < plan.actions_size(); ++k) {
      const Action& a = plan.actions(k);
      absl::StrAppend(&out, "  ", heads[k],
                      std::string(width - heads[k].size() + 2, ' '), Delta(a),
                      "\n");
      absl::StrAppend(&out, "      ", c.dim, absl::StrJoin(a.reasons(), "; "),
                      c.reset, "\n");
      AppendExamples(a.add(), "+", options.address_examples, &out);
      AppendExamples(a.remove(), "-", options.address_examples, &out);
    }
  }

  absl::StrAppend(&out, "\n", c.bold, "Guards:", c.reset, "\n");
  for (const tqs1::v1::GuardVerdict& g : plan.guards()) {
    absl::string_view verdict = !g.tripped()     ? "ok        "
                                : g.overridden() ? "overridden"
                                                 : "TRIPPED   ";
    absl::string_view colour = !g.tripped()     ? c.green
                               : g.overridden() ? c.yellow
                                                : c.red;
    absl::StrAppend(&out, "  ", colour, verdict, c.reset, " ", g.guard(), ": ",
                    g.message(), "\n");
  }

  const tqs1::v1::PlanSummary& s = plan.summary();
  absl::StrAppend(&out, "\n");
  if (s.in_sync()) {
    absl::StrAppend(&out, c.bold, "No changes.", c.reset, " The site blocks ",
                    "the collection's ", FormatCount(in.desired()),
                    " addresses.\n");
  } else {
    absl::StrAppend(&out, c.bold, "Plan:", c.reset, " ", s.creates(),
                    " to create, ", s.updates(), " to update, ", s.deletes(),
                    " to delete; ", FormatCount(s.newly_blocked()),
                    " addresses to block, ", FormatCount(s.unblocked()),
                    " to unblock.\n");
  }
  if (s.blocked()) {
    absl::StrAppend(&out, c.red, c.bold, "Blocked by a guard:", c.reset,
                    " this plan will not be applied. Check the collection, or "
                    "override the guard if the change is intended.\n");
  }
  return out;
}

namespace {

absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  auto status =
      google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("cannot write the plan as JSON: ", status.ToString()));
  }
  return json;
}

absl::Status FromJson(absl::string_view json,
                      google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions options;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), message,
      options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a tqs1 plan: ", status.message().as_string()));
  }
  return absl::OkStatus();
}

absl::Status CheckFormat(tqs1::v1::PlanFormat format) {
  if (format == tqs1::v1::PLAN_FORMAT_V1) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("plan format ", static_cast<int>(format),
                   " is not one this tqs1 reads (it reads format 1)"));
}

}  // namespace

absl::StatusOr<std::string> RenderPlanJson(const Plan& plan) {
  return ToJson(plan);
}

absl::StatusOr<Plan> ParsePlanJson(absl::string_view json) {
  Plan plan;
  if (absl::Status s = FromJson(json, &plan); !s.ok()) return s;
  if (absl::Status s = CheckFormat(plan.format()); !s.ok()) return s;
  return plan;
}

absl::StatusOr<std::string> RenderPlanFileJson(
    const tqs1::v1::PlanFile& plan_file) {
  return ToJson(plan_file);
}

absl::StatusOr<tqs1::v1::PlanFile> ParsePlanFileJson(absl::string_view json) {
  tqs1::v1::PlanFile file;
  if (absl::Status s = FromJson(json, &file); !s.ok()) return s;
  if (absl::Status s = CheckFormat(file.format()); !s.ok()) return s;
  for (const Plan& plan : file.plans()) {
    if (absl::Status s = CheckFormat(plan.format()); !s.ok()) return s;
  }
  return file;
}

}  // namespace tqs1::reconciler
