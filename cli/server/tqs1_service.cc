#include "cli/server/tqs1_service.h"

#include <optional>
#include <vector>

#include "absl/time/clock.h"
#include "cli/app.h"
#include "cli/server/auth.h"
#include "cli/server/status_mapping.h"
#include "reconciler/plan_file.h"
#include "reconciler/render.h"
#include "sync/plan_executor.h"

namespace tqs1::server {
namespace {

std::vector<std::string> Names(
    const google::protobuf::RepeatedPtrField<std::string>& names) {
  return std::vector<std::string>(names.begin(), names.end());
}

// `plans` as a plan file signed with `key`, in its JSON form; a sync that
// failed has a plan holding only its error, as `tqs1 plan --out` writes it.
absl::StatusOr<std::string> SignedPlanFile(
    const tqs1::v1::PlanResponse& response, const std::string& key) {
  tqs1::v1::PlanFile file = cli::NewPlanFile(absl::Now());
  for (const tqs1::v1::SyncPlan& p : response.plans()) {
    tqs1::v1::Plan* plan = file.add_plans();
    if (p.error().empty()) {
      *plan = p.plan();
      continue;
    }
    plan->set_format(tqs1::v1::PLAN_FORMAT_V1);
    plan->set_sync_name(p.sync_name());
    plan->set_error(p.error());
  }
  if (absl::Status s = reconciler::SignPlanFile(key, file); !s.ok()) return s;
  return reconciler::RenderPlanFileJson(file);
}

}  // namespace

grpc::Status Tqs1Service::CheckReadAccess(
    const grpc::ServerContext& context) const {
  if (!options_.token_required_for_reads) return grpc::Status::OK;
  return ToGrpcStatus(
      CheckBearerToken(AuthorizationHeader(context), options_.token));
}

grpc::Status Tqs1Service::Plan(grpc::ServerContext* context,
                               const tqs1::v1::PlanRequest* request,
                               tqs1::v1::PlanResponse* response) {
  if (grpc::Status s = CheckReadAccess(*context); !s.ok()) return s;
  absl::StatusOr<std::vector<std::string>> syncs =
      supervisor_->Select(Names(request->syncs()));
  if (!syncs.ok()) return ToGrpcStatus(syncs.status());
  for (const std::string& name : *syncs) {
    tqs1::v1::SyncPlan* out = response->add_plans();
    out->set_sync_name(name);
    absl::StatusOr<tqs1::v1::Plan> plan =
        supervisor_->Plan(name, request->options());
    if (plan.ok()) {
      *out->mutable_plan() = *std::move(plan);
    } else {
      out->set_error(std::string(plan.status().message()));
    }
  }
  if (!options_.plan_key.empty()) {
    absl::StatusOr<std::string> file =
        SignedPlanFile(*response, options_.plan_key);
    if (!file.ok()) return ToGrpcStatus(file.status());
    response->set_plan_file(*std::move(file));
  }
  return grpc::Status::OK;
}

absl::StatusOr<tqs1::v1::PlanFile> Tqs1Service::ReviewedPlanFile(
    const tqs1::v1::ApplyRequest& request) const {
  if (!request.syncs().empty() || request.has_options()) {
    return absl::InvalidArgumentError(
        "a plan file decides which syncs it applies and with which options: "
        "send neither with it");
  }
  if (options_.plan_key.empty()) {
    return absl::FailedPreconditionError(
        "this server has no plan key, so it takes no plan file (tqs1 serve "
        "--demo); re-plan and apply with --auto-approve");
  }
  absl::StatusOr<tqs1::v1::PlanFile> file =
      reconciler::ParsePlanFileJson(request.plan_file());
  if (!file.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the plan file: ", file.status().message()));
  }
  if (absl::Status s = reconciler::VerifyPlanFile(options_.plan_key, *file,
                                                  "given to Apply");
      !s.ok()) {
    return s;
  }
  if (file->plans().empty()) {
    return absl::InvalidArgumentError("the plan file holds no syncs");
  }
  return file;
}

grpc::Status Tqs1Service::Apply(grpc::ServerContext* context,
                                const tqs1::v1::ApplyRequest* request,
                                tqs1::v1::ApplyResponse* response) {
  if (absl::Status s =
          CheckBearerToken(AuthorizationHeader(*context), options_.token);
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  // A reviewed plan file, or the syncs to re-plan.
  std::optional<tqs1::v1::PlanFile> file;
  std::vector<std::string> names = Names(request->syncs());
  if (!request->plan_file().empty()) {
    absl::StatusOr<tqs1::v1::PlanFile> reviewed = ReviewedPlanFile(*request);
    if (!reviewed.ok()) return ToGrpcStatus(reviewed.status());
    file = *std::move(reviewed);
    for (const tqs1::v1::Plan& plan : file->plans()) {
      names.push_back(plan.sync_name());
    }
  }
  absl::StatusOr<std::vector<std::string>> syncs = supervisor_->Select(names);
  if (!syncs.ok()) return ToGrpcStatus(syncs.status());
  absl::StatusOr<ApplyReservation> reservation =
      supervisor_->ReserveApply(*syncs);
  if (!reservation.ok()) return ToGrpcStatus(reservation.status());
  for (const std::string& name : *syncs) {
    // The plan file's plan of this sync (syncs go in config order).
    const tqs1::v1::Plan* reviewed = nullptr;
    if (file.has_value()) {
      for (const tqs1::v1::Plan& plan : file->plans()) {
        if (plan.sync_name() == name) reviewed = &plan;
      }
    }
    tqs1::v1::SyncApply* out = response->add_results();
    out->set_sync_name(name);
    absl::StatusOr<ApplyOutcome> outcome = supervisor_->Apply(
        *reservation, name, request->options(),
        [context] { return context->IsCancelled(); }, reviewed);
    if (outcome.ok()) {
      *out->mutable_report() = std::move(outcome->report);
      continue;
    }
    out->set_error(std::string(outcome.status().message()));
    if (std::optional<tqs1::v1::ApplyReport> partial =
            sync::PartialApplyReport(outcome.status())) {
      *out->mutable_report() = *std::move(partial);
    }
  }
  return grpc::Status::OK;
}

grpc::Status Tqs1Service::GetDrift(grpc::ServerContext* context,
                                   const tqs1::v1::GetDriftRequest* request,
                                   tqs1::v1::GetDriftResponse* response) {
  if (grpc::Status s = CheckReadAccess(*context); !s.ok()) return s;
  absl::StatusOr<std::vector<tqs1::v1::SyncDrift>> drift =
      supervisor_->Drift(Names(request->syncs()));
  if (!drift.ok()) return ToGrpcStatus(drift.status());
  std::vector<std::string> syncs;
  for (const tqs1::v1::SyncDrift& d : *drift) syncs.push_back(d.sync_name());
  DriftFreshness freshness;
  freshness.refresh = request->refresh();
  freshness.max_age = absl::Seconds(request->max_age().seconds()) +
                      absl::Nanoseconds(request->max_age().nanos());
  supervisor_->Refresh(syncs, freshness,
                       [context] { return context->IsCancelled(); });
  if (context->IsCancelled()) return grpc::Status::CANCELLED;
  drift = supervisor_->Drift(syncs);
  if (!drift.ok()) return ToGrpcStatus(drift.status());
  for (tqs1::v1::SyncDrift& d : *drift) *response->add_syncs() = std::move(d);
  return grpc::Status::OK;
}

grpc::Status Tqs1Service::WatchDrift(
    grpc::ServerContext* context, const tqs1::v1::WatchDriftRequest* request,
    grpc::ServerWriter<tqs1::v1::DriftEvent>* writer) {
  if (grpc::Status s = CheckReadAccess(*context); !s.ok()) return s;
  absl::StatusOr<std::vector<std::string>> syncs =
      supervisor_->Select(Names(request->syncs()));
  if (!syncs.ok()) return ToGrpcStatus(syncs.status());
  // Read the version first: a change after it is sent again, never lost.
  uint64_t seen = supervisor_->DriftVersion();
  absl::StatusOr<std::vector<tqs1::v1::SyncDrift>> current =
      supervisor_->Drift(*syncs);
  if (!current.ok()) return ToGrpcStatus(current.status());
  auto send = [writer](const tqs1::v1::SyncDrift& drift) {
    tqs1::v1::DriftEvent event;
    *event.mutable_drift() = drift;
    return writer->Write(event);
  };
  for (const tqs1::v1::SyncDrift& d : *current) {
    if (!send(d)) return grpc::Status::CANCELLED;
  }
  while (!context->IsCancelled()) {
    std::vector<tqs1::v1::SyncDrift> changes =
        supervisor_->WaitForDriftChange(*syncs, &seen, options_.watch_poll);
    for (const tqs1::v1::SyncDrift& d : changes) {
      if (!send(d)) return grpc::Status::CANCELLED;
    }
    if (supervisor_->shutting_down()) return grpc::Status::OK;
  }
  return grpc::Status::CANCELLED;
}

}  // namespace tqs1::server
