// A client that is not tqs1's: it knows no tqs1 proto, only the standard
// gRPC reflection (v1alpha, as served by gRPC 1.51) and health services,
// spoken with raw bytes through grpc::GenericStub. It lists the services,
// fetches tqs1.v1.Tqs1's descriptors, checks health and calls GetDrift with
// dynamic messages built from those descriptors, as grpcurl would.
#include <grpcpp/generic/generic_stub.h>

#include <map>
#include <set>

#include "cli/server/test_env.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/dynamic_message.h"
#include "gtest/gtest.h"

namespace tqs1::server {
namespace {

using ::testing::Contains;
using ::testing::IsSupersetOf;

constexpr char kReflectionMethod[] =
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

std::string ToString(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const grpc::Slice& s : slices) {
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return out;
}

// One ServerReflectionInfo exchange (a bidi stream): sends `request`
// (ServerReflectionRequest bytes), returns the one response's bytes.
absl::StatusOr<std::string> Reflect(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& request) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(20));
  grpc::CompletionQueue cq;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call =
      stub.PrepareCall(&context, kReflectionMethod, &cq);
  void* tag = nullptr;
  bool ok = false;
  auto step = [&](intptr_t want) {
    return cq.Next(&tag, &ok) && tag == reinterpret_cast<void*>(want) && ok;
  };
  call->StartCall(reinterpret_cast<void*>(1));
  if (!step(1)) return absl::UnavailableError("cannot start the call");
  grpc::Slice slice(request);
  grpc::ByteBuffer out(&slice, 1);
  call->Write(out, reinterpret_cast<void*>(2));
  if (!step(2)) return absl::UnavailableError("cannot write");
  call->WritesDone(reinterpret_cast<void*>(3));
  if (!step(3)) return absl::UnavailableError("cannot half-close");
  grpc::ByteBuffer in;
  call->Read(&in, reinterpret_cast<void*>(4));
  const bool got = step(4);
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  cq.Next(&tag, &ok);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  if (!status.ok()) {
    return absl::UnknownError(status.error_message());
  }
  if (!got) return absl::DataLossError("no response");
  return ToString(in);
}

// ServerReflectionRequest.list_services (7) -> ListServiceResponse (6) ->
// ServiceResponse (1) -> name (1).
std::vector<std::string> ListServices(
    const std::shared_ptr<grpc::Channel>& channel) {
  absl::StatusOr<std::string> response =
      Reflect(channel, EncodeBytesField(7, "*"));
  EXPECT_TRUE(response.ok()) << response.status();
  std::vector<std::string> names;
  if (!response.ok()) return names;
  for (const std::string& list : DecodeField(*response, 6)) {
    for (const std::string& service : DecodeField(list, 1)) {
      for (const std::string& name : DecodeField(service, 1)) {
        names.push_back(name);
      }
    }
  }
  return names;
}

// ServerReflectionRequest.file_containing_symbol (4) ->
// FileDescriptorResponse (4) -> file_descriptor_proto (1), built into
// `pool` (dependencies first, whatever order they came in).
bool LoadSymbol(const std::shared_ptr<grpc::Channel>& channel,
                const std::string& symbol,
                google::protobuf::DescriptorPool& pool) {
  absl::StatusOr<std::string> response =
      Reflect(channel, EncodeBytesField(4, symbol));
  EXPECT_TRUE(response.ok()) << response.status();
  if (!response.ok()) return false;
  std::vector<google::protobuf::FileDescriptorProto> files;
  for (const std::string& fd : DecodeField(*response, 4)) {
    for (const std::string& bytes : DecodeField(fd, 1)) {
      files.emplace_back().ParseFromString(bytes);
    }
  }
  EXPECT_FALSE(files.empty())
      << "error response: " << DecodeField(*response, 7).size();
  bool progress = true;
  while (!files.empty() && progress) {
    progress = false;
    for (auto it = files.begin(); it != files.end();) {
      bool ready = true;
      for (const std::string& dep : it->dependency()) {
        ready &= pool.FindFileByName(dep) != nullptr;
      }
      if (ready) {
        EXPECT_NE(pool.BuildFile(*it), nullptr) << it->name();
        it = files.erase(it);
        progress = true;
      } else {
        ++it;
      }
    }
  }
  return files.empty();
}

TEST(ReflectionTest, AForeignClientListsChecksHealthAndCallsGetDrift) {
  ServeOptions serve;
  serve.token = "t0ken";
  absl::StatusOr<std::unique_ptr<ServerTestEnv>> env =
      ServerTestEnv::Start(serve);
  ASSERT_TRUE(env.ok()) << env.status();
  (*env)->supervisor().ReconcileAll(/*apply=*/false);
  std::shared_ptr<grpc::Channel> channel = (*env)->Channel();

  // 1. List the services.
  EXPECT_THAT(ListServices(channel),
              IsSupersetOf({"tqs1.v1.Tqs1", "grpc.health.v1.Health",
                            "grpc.reflection.v1alpha.ServerReflection"}));

  // 2. Resolve tqs1.v1.Tqs1 and its messages from the server alone.
  google::protobuf::DescriptorPool pool;
  ASSERT_TRUE(LoadSymbol(channel, "tqs1.v1.Tqs1", pool));
  const google::protobuf::ServiceDescriptor* service =
      pool.FindServiceByName("tqs1.v1.Tqs1");
  ASSERT_NE(service, nullptr);
  std::set<std::string> methods;
  for (int i = 0; i < service->method_count(); ++i) {
    methods.insert(service->method(i)->name());
  }
  EXPECT_EQ(methods,
            (std::set<std::string>{"Apply", "GetDrift", "Plan", "WatchDrift"}));

  // 3. Health, overall and per sync.
  EXPECT_EQ(CheckHealth(channel, "").value_or("?"), "SERVING");
  EXPECT_EQ(CheckHealth(channel, "tqs1.sync/c2-hq").value_or("?"), "SERVING");

  // 4. GetDrift with dynamic messages.
  const google::protobuf::MethodDescriptor* get_drift =
      service->FindMethodByName("GetDrift");
  ASSERT_NE(get_drift, nullptr);
  google::protobuf::DynamicMessageFactory factory(&pool);
  std::unique_ptr<google::protobuf::Message> request(
      factory.GetPrototype(get_drift->input_type())->New());
  absl::StatusOr<std::string> bytes = GenericUnaryCall(
      channel, "/tqs1.v1.Tqs1/GetDrift", request->SerializeAsString());
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  std::unique_ptr<google::protobuf::Message> response(
      factory.GetPrototype(get_drift->output_type())->New());
  ASSERT_TRUE(response->ParseFromString(*bytes));
  const google::protobuf::Reflection* r = response->GetReflection();
  const google::protobuf::FieldDescriptor* syncs =
      get_drift->output_type()->FindFieldByName("syncs");
  ASSERT_NE(syncs, nullptr);
  ASSERT_EQ(r->FieldSize(*response, syncs), 1);
  const google::protobuf::Message& drift =
      r->GetRepeatedMessage(*response, syncs, 0);
  const google::protobuf::Descriptor* d = drift.GetDescriptor();
  EXPECT_EQ(
      drift.GetReflection()->GetString(drift, d->FindFieldByName("sync_name")),
      "c2-hq");
  EXPECT_EQ(
      drift.GetReflection()->GetUInt64(drift, d->FindFieldByName("missing")),
      5u);
  EXPECT_FALSE(
      drift.GetReflection()->GetBool(drift, d->FindFieldByName("in_sync")));
}

}  // namespace
}  // namespace tqs1::server
