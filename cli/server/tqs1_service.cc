#include "cli/server/tqs1_service.h"

#include <vector>

#include "cli/server/auth.h"
#include "cli/server/status_mapping.h"
#include "sync/plan_executor.h"

namespace tqs1::server {
namespace {

std::vector<std::string> Names(
    const google::protobuf::RepeatedPtrField<std::string>& names) {
  return std::vector<std::string>(names.begin(), names.end());
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
  return grpc::Status::OK;
}

grpc::Status Tqs1Service::Apply(grpc::ServerContext* context,
                                const tqs1::v1::ApplyRequest* request,
                                tqs1::v1::ApplyResponse* response) {
  if (absl::Status s =
          CheckBearerToken(AuthorizationHeader(*context), options_.token);
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  absl::StatusOr<std::vector<std::string>> syncs =
      supervisor_->Select(Names(request->syncs()));
  if (!syncs.ok()) return ToGrpcStatus(syncs.status());
  absl::StatusOr<ApplyReservation> reservation =
      supervisor_->ReserveApply(*syncs);
  if (!reservation.ok()) return ToGrpcStatus(reservation.status());
  for (const std::string& name : *syncs) {
    tqs1::v1::SyncApply* out = response->add_results();
    out->set_sync_name(name);
    absl::StatusOr<ApplyOutcome> outcome =
        supervisor_->Apply(*reservation, name, request->options(),
                           [context] { return context->IsCancelled(); });
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
