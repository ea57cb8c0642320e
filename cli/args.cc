#include "cli/args.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "cli/config/config_loader.h"

namespace tqs1::cli {
namespace {

const std::set<std::string>& Commands() {
  static const auto* commands = new std::set<std::string>{
      "plan",    "apply", "check", "serve",   "drift", "why",
      "history", "demo",  "init",  "version", "help"};
  return *commands;
}

// Every option ParseCommandLine() knows (kept in step with it by a test).
const std::vector<std::string>& Options() {
  static const auto* options =
      new std::vector<std::string>{"--help",
                                   "--version",
                                   "--config",
                                   "--loglocation",
                                   "--verbosity",
                                   "--log-format",
                                   "--name",
                                   "--state-dir",
                                   "--sync",
                                   "--out",
                                   "--lock-timeout",
                                   "--plan-max-age",
                                   "--server",
                                   "--listen",
                                   "--metrics-listen",
                                   "--tls-cert",
                                   "--tls-key",
                                   "--tls-client-ca",
                                   "--tls-ca",
                                   "--token-file",
                                   "--token-env",
                                   "--interval",
                                   "--watch",
                                   "--refresh",
                                   "--max-age",
                                   "--apply",
                                   "--demo",
                                   "--write-probe",
                                   "--config-only",
                                   "--show-addresses",
                                   "--show-rejected",
                                   "--restore",
                                   "--parallelism",
                                   "--offline",
                                   "--since",
                                   "--address",
                                   "--json",
                                   "--detailed-exitcode",
                                   "--auto-approve",
                                   "--adopt",
                                   "--allow-empty",
                                   "--allow-mass-unblock",
                                   "--allow-disabled-firewall",
                                   "--no-color",
                                   "-h",
                                   "-V",
                                   "-c",
                                   "-ll",
                                   "-v",
                                   "-n"};
  return *options;
}

// The closest of `candidates` to `word` when it is close enough to be a
// typo: at most 2 edits, and fewer than half of the word's length.
std::optional<std::string> Closest(absl::string_view word,
                                   const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  size_t best_distance = 3;
  for (const std::string& candidate : candidates) {
    const size_t d = EditDistance(word, candidate);
    if (d < best_distance && 2 * d < std::max(word.size(), candidate.size())) {
      best = candidate;
      best_distance = d;
    }
  }
  return best;
}

// `; did you mean "x"?` or "".
std::string Suggestion(absl::string_view word,
                       const std::vector<std::string>& candidates) {
  std::optional<std::string> closest = Closest(word, candidates);
  if (!closest.has_value()) return "";
  return absl::StrCat("; did you mean \"", *closest, "\"?");
}

std::string UnknownCommand(const std::string& word) {
  const std::vector<std::string> commands(Commands().begin(), Commands().end());
  return absl::StrCat("unknown command \"", word,
                      "\"; commands: ", absl::StrJoin(Commands(), ", "),
                      Suggestion(word, commands));
}

absl::Status Bad(const std::string& message) {
  return absl::InvalidArgumentError(
      absl::StrCat(message, " (see `tqs1 help`)"));
}

absl::Status SetVerbosity(const std::string& value, CommandLine& cl) {
  int v = 0;
  if (!absl::SimpleAtoi(value, &v) || v < 1 || v > 3) {
    return Bad(absl::StrCat("verbosity \"", value, "\" is not 1, 2 or 3"));
  }
  cl.verbosity = v;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CommandLine> ParseCommandLine(
    const std::vector<std::string>& args) {
  CommandLine cl;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    std::string inline_value;
    bool has_inline = false;
    if (absl::StartsWith(arg, "--")) {
      if (size_t eq = arg.find('='); eq != std::string::npos) {
        inline_value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        has_inline = true;
      }
    }
    auto value = [&](const std::string& flag) -> absl::StatusOr<std::string> {
      if (has_inline) return inline_value;
      if (i + 1 >= args.size()) {
        return Bad(absl::StrCat("option ", flag, " needs a value"));
      }
      return args[++i];
    };
    auto flag_only = [&]() -> absl::Status {
      if (has_inline) {
        return Bad(absl::StrCat("option ", arg, " takes no value"));
      }
      return absl::OkStatus();
    };

    if (arg == "-h" || arg == "--help") {
      if (absl::Status s = flag_only(); !s.ok()) return s;
      cl.help = true;
    } else if (arg == "-V" || arg == "--version") {
      if (absl::Status s = flag_only(); !s.ok()) return s;
      cl.version = true;
    } else if (arg == "-c" || arg == "--config") {
      absl::StatusOr<std::string> v = value(arg);
      if (!v.ok()) return v.status();
      cl.config = *v;
    } else if (arg == "-ll" || arg == "--loglocation") {
      absl::StatusOr<std::string> v = value(arg);
      if (!v.ok()) return v.status();
      cl.log_location = *v;
    } else if (arg == "-v" || arg == "--verbosity") {
      absl::StatusOr<std::string> v = value(arg);
      if (!v.ok()) return v.status();
      if (absl::Status s = SetVerbosity(*v, cl); !s.ok()) return s;
    } else if (absl::StartsWith(arg, "-v") && arg.size() == 3) {
      // -v1, -v2, -v3 as in the old connector's cron lines.
      if (absl::Status s = SetVerbosity(arg.substr(2), cl); !s.ok()) return s;
    } else if (arg == "--log-format") {
      absl::StatusOr<std::string> v = value(arg);
      if (!v.ok()) return v.status();
      if (*v != "text" && *v != "json") {
        return Bad(absl::StrCat("--log-format \"", *v,
                                "\" is not \"text\" or \"json\""));
      }
      cl.log_json = *v == "json";
    } else if (arg == "-n" || arg == "--name") {
      absl::StatusOr<std::string> v = value(arg);
      if (!v.ok()) return v.status();
      cl.name = *v;
    } else if (arg == "--sync") {
      absl::StatusOr<std::string> v = value(arg);
      if (!v.ok()) return v.status();
      cl.syncs.push_back(*v);
    } else if (arg == "--out") {
      absl::StatusOr<std::string> v = value(arg);
      if (!v.ok()) return v.status();
      cl.out = *v;
    } else if (arg == "--lock-timeout") {
      absl::StatusOr<std::string> v = value(arg);
      if (!v.ok()) return v.status();
      if (!absl::ParseDuration(*v, &cl.lock_timeout) ||
          cl.lock_timeout < absl::ZeroDuration() ||
          cl.lock_timeout == absl::InfiniteDuration()) {
        return Bad(absl::StrCat("--lock-timeout \"", *v,
                                "\" is not a duration such as 30s or 500ms"));
      }
    } else if (arg == "--plan-max-age") {
      absl::StatusOr<std::string> v = value(arg);
      if (!v.ok()) return v.status();
      if (!absl::ParseDuration(*v, &cl.plan_max_age) ||
          cl.plan_max_age <= absl::ZeroDuration()) {
        return Bad(absl::StrCat("--plan-max-age \"", *v,
                                "\" is not a duration such as 24h or 90m"));
      }
    } else if (arg == "--server" || arg == "--listen" ||
               arg == "--metrics-listen" || arg == "--tls-cert" ||
               arg == "--tls-key" || arg == "--tls-client-ca" ||
               arg == "--tls-ca" || arg == "--token-file" ||
               arg == "--token-env" || arg == "--state-dir") {
      absl::StatusOr<std::string> v = value(arg);
      if (!v.ok()) return v.status();
      if (v->empty()) return Bad(absl::StrCat("option ", arg, " is empty"));
      std::string* field = arg == "--server"           ? &cl.server
                           : arg == "--listen"         ? &cl.listen
                           : arg == "--metrics-listen" ? &cl.metrics_listen
                           : arg == "--tls-cert"       ? &cl.tls_cert
                           : arg == "--tls-key"        ? &cl.tls_key
                           : arg == "--tls-client-ca"  ? &cl.tls_client_ca
                           : arg == "--tls-ca"         ? &cl.tls_ca
                           : arg == "--token-file"     ? &cl.token_file
                           : arg == "--state-dir"      ? &cl.state_dir
                                                       : &cl.token_env;
      *field = *v;
    } else if (arg == "--interval") {
      absl::StatusOr<std::string> v = value(arg);
      if (!v.ok()) return v.status();
      if (!absl::ParseDuration(*v, &cl.interval) ||
          cl.interval < absl::ZeroDuration() ||
          cl.interval == absl::InfiniteDuration()) {
        return Bad(absl::StrCat("--interval \"", *v,
                                "\" is not a duration such as 5m or 90s"));
      }
    } else if (arg == "--max-age") {
      absl::StatusOr<std::string> v = value(arg);
      if (!v.ok()) return v.status();
      if (!absl::ParseDuration(*v, &cl.max_age) ||
          cl.max_age <= absl::ZeroDuration() ||
          cl.max_age == absl::InfiniteDuration()) {
        return Bad(absl::StrCat("--max-age \"", *v,
                                "\" is not a duration such as 5m or 90s"));
      }
    } else if (arg == "--parallelism") {
      absl::StatusOr<std::string> v = value(arg);
      if (!v.ok()) return v.status();
      if (!absl::SimpleAtoi(*v, &cl.parallelism) || cl.parallelism < 1 ||
          cl.parallelism > config::kMaxParallelism) {
        return Bad(absl::StrCat("--parallelism \"", *v,
                                "\" is not a number from 1 to ",
                                config::kMaxParallelism));
      }
    } else if (arg == "--restore") {
      absl::StatusOr<std::string> v = value(arg);
      if (!v.ok()) return v.status();
      if (!absl::SimpleAtoi(*v, &cl.restore) || cl.restore <= 0) {
        return Bad(absl::StrCat("--restore \"", *v,
                                "\" is not an apply id (a number from `tqs1 "
                                "history`)"));
      }
    } else if (arg == "--since") {
      absl::StatusOr<std::string> v = value(arg);
      if (!v.ok()) return v.status();
      absl::Duration ago;
      std::string why;
      if (absl::ParseDuration(*v, &ago) && ago > absl::ZeroDuration() &&
          ago != absl::InfiniteDuration()) {
        cl.since = absl::Now() - ago;
      } else if (!absl::ParseTime(absl::RFC3339_full, *v, &cl.since, &why) &&
                 !absl::ParseTime("%Y-%m-%d", *v, &cl.since, &why)) {
        return Bad(absl::StrCat(
            "--since \"", *v,
            "\" is not a duration such as 72h, a date such as 2026-11-01 "
            "(UTC) or an RFC 3339 time"));
      }
    } else if (arg == "--address") {
      absl::StatusOr<std::string> v = value(arg);
      if (!v.ok()) return v.status();
      if (v->empty()) return Bad("option --address is empty");
      cl.address = *v;
    } else if (arg == "--watch" || arg == "--apply" || arg == "--demo" ||
               arg == "--write-probe" || arg == "--refresh" ||
               arg == "--config-only" || arg == "--offline") {
      if (absl::Status s = flag_only(); !s.ok()) return s;
      if (arg == "--offline") cl.offline = true;
      if (arg == "--watch") cl.watch = true;
      if (arg == "--refresh") cl.refresh = true;
      if (arg == "--apply") cl.apply_on_schedule = true;
      if (arg == "--demo") cl.serve_demo = true;
      if (arg == "--write-probe") cl.write_probe = true;
      if (arg == "--config-only") cl.config_only = true;
    } else if (arg == "--show-addresses") {
      absl::StatusOr<std::string> v = value(arg);
      if (!v.ok()) return v.status();
      if (!absl::SimpleAtoi(*v, &cl.show_addresses) || cl.show_addresses < 0) {
        return Bad(
            absl::StrCat("--show-addresses \"", *v, "\" is not a number"));
      }
    } else if (arg == "--show-rejected") {
      absl::StatusOr<std::string> v = value(arg);
      if (!v.ok()) return v.status();
      if (*v == "all") {
        cl.show_rejected = std::numeric_limits<int>::max();
      } else if (!absl::SimpleAtoi(*v, &cl.show_rejected) ||
                 cl.show_rejected < 0) {
        return Bad(absl::StrCat("--show-rejected \"", *v,
                                "\" is not a number or \"all\""));
      }
    } else if (arg == "--json" || arg == "--detailed-exitcode" ||
               arg == "--auto-approve" || arg == "--adopt" ||
               arg == "--allow-empty" || arg == "--allow-mass-unblock" ||
               arg == "--allow-disabled-firewall" || arg == "--no-color") {
      if (absl::Status s = flag_only(); !s.ok()) return s;
      if (arg == "--json") cl.json = true;
      if (arg == "--detailed-exitcode") cl.detailed_exitcode = true;
      if (arg == "--auto-approve") cl.auto_approve = true;
      if (arg == "--adopt") cl.adopt = true;
      if (arg == "--allow-empty") cl.allow_empty = true;
      if (arg == "--allow-mass-unblock") cl.allow_mass_unblock = true;
      if (arg == "--allow-disabled-firewall") {
        cl.allow_disabled_firewall = true;
      }
      if (arg == "--no-color") cl.no_color = true;
    } else if (absl::StartsWith(arg, "-") && arg != "-") {
      return Bad(absl::StrCat("unknown option \"", arg, "\"",
                              Suggestion(arg, Options())));
    } else if (cl.command.empty()) {
      if (!Commands().count(arg)) return Bad(UnknownCommand(arg));
      cl.command = arg;
    } else {
      cl.positional.push_back(arg);
    }
  }
  if (cl.command == "help" && !cl.positional.empty() &&
      !Commands().count(cl.positional[0])) {
    return Bad(UnknownCommand(cl.positional[0]));
  }
  if (cl.config_only && (cl.write_probe || cl.serve_demo)) {
    return Bad(absl::StrCat("--config-only cannot be combined with ",
                            cl.write_probe ? "--write-probe" : "--demo"));
  }
  // apply PLANFILE, help COMMAND, why ADDRESS, history show APPLY_ID.
  size_t max_positional =
      cl.command == "apply" || cl.command == "help" || cl.command == "why" ? 1
      : cl.command == "history"                                            ? 2
                                                                           : 0;
  if (cl.positional.size() > max_positional) {
    return Bad(absl::StrCat("unexpected argument \"",
                            cl.positional[max_positional], "\" for ",
                            cl.command));
  }
  return cl;
}

bool IsLegacyProgramName(absl::string_view argv0) {
  if (size_t slash = argv0.rfind('/'); slash != absl::string_view::npos) {
    argv0.remove_prefix(slash + 1);
  }
  return argv0 == kLegacyProgramName;
}

absl::StatusOr<CommandLine> ParseLegacyCommandLine(
    const std::vector<std::string>& args) {
  static const auto* with_value =
      new std::set<std::string>{"-c", "--config",    "-ll", "--loglocation",
                                "-v", "--verbosity", "-n",  "--name"};
  static const auto* alone = new std::set<std::string>{
      "-h", "--help", "--version", "-v1", "-v2", "-v3"};
  const std::string only =
      absl::StrCat(kLegacyProgramName,
                   " takes only the old connector's flags (-c, -ll, -v, -n)");
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    std::string name = arg;
    bool has_inline = false;
    if (absl::StartsWith(arg, "--")) {
      if (size_t eq = arg.find('='); eq != std::string::npos) {
        name = arg.substr(0, eq);
        has_inline = true;
      }
    }
    if (with_value->count(name)) {
      if (!has_inline) ++i;  // ParseCommandLine() reports a missing value
      continue;
    }
    if (alone->count(name)) continue;
    if (!absl::StartsWith(arg, "-")) {
      if (Commands().count(arg)) {
        return absl::InvalidArgumentError(absl::StrCat(
            only, "; for \"", arg, "\" run `tqs1 ", arg, "` instead"));
      }
      return absl::InvalidArgumentError(
          absl::StrCat(only, "; unexpected argument \"", arg, "\""));
    }
    return absl::InvalidArgumentError(absl::StrCat(
        only, "; \"", arg, "\" is not one of them (run `tqs1 apply ",
        "--auto-approve ...` to use tqs1's own options)"));
  }
  std::vector<std::string> full = {"apply", "--auto-approve"};
  full.insert(full.end(), args.begin(), args.end());
  return ParseCommandLine(full);
}

std::string ShellJoin(const std::vector<std::string>& args) {
  std::vector<std::string> words;
  for (const std::string& arg : args) {
    const bool plain =
        !arg.empty() &&
        std::all_of(arg.begin(), arg.end(), [](unsigned char c) {
          return absl::ascii_isalnum(c) ||
                 absl::string_view("-_./:=@%+,").find(static_cast<char>(c)) !=
                     absl::string_view::npos;
        });
    words.push_back(
        plain ? arg
              : absl::StrCat("'", absl::StrReplaceAll(arg, {{"'", "'\\''"}}),
                             "'"));
  }
  return absl::StrJoin(words, " ");
}

std::string MissingCommandText(const std::vector<std::string>& args) {
  std::vector<std::string> line = {"tqs1", "apply"};
  if (std::find(args.begin(), args.end(), "--auto-approve") == args.end()) {
    line.push_back("--auto-approve");
  }
  line.insert(line.end(), args.begin(), args.end());
  const std::string usage =
      absl::StrCat("Usage: tqs1 COMMAND [options]; commands: ",
                   absl::StrJoin(Commands(), ", "), "\n");
  if (args.empty()) {
    return absl::StrCat(
        "Error: no command given.\n", usage,
        "To apply the config in the current folder from cron, as the old "
        "connector did:\n  ",
        ShellJoin(line), "\n`tqs1 help` explains every command and option.\n");
  }
  return absl::StrCat(
      "Error: no command given, so nothing was done. tqs1 needs a command "
      "before its\noptions; to do what the old connector did with these "
      "flags (read, plan and\napply without asking), run:\n  ",
      ShellJoin(line), "\n", "(or run tqs1 through a link named ",
      kLegacyProgramName,
      " and keep the old line).\n`tqs1 help` lists the commands.\n");
}

size_t EditDistance(absl::string_view a, absl::string_view b) {
  // d[i][j]: the distance between the first i bytes of a and the first j
  // of b (optimal string alignment: no substring is edited twice).
  std::vector<std::vector<size_t>> d(a.size() + 1,
                                     std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] =
          std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace tqs1::cli
