// Idle and slow clients cannot starve the tablets (issue 10, class 2): the
// server's front end holds a connection without a worker until its request
// head is whole, closes what stays idle or slow past its deadline, and refuses
// at once what is over a connection cap.

#include <poll.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hemma/mobile/device.hpp"
#include "hemma/mobile/http_transport.hpp"
#include "support/demo_world.hpp"
#include "support/raw_http.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using hemma::test::RawConnection;

const std::string kHealth = "GET /api/v1/health HTTP/1.1\r\nHost: hemma\r\n\r\n";

// Keeps `idle` connections that send nothing and `slow` ones that send one
// header line every 5 s, reopening each the server closes, until stopped.
class Attackers {
 public:
  Attackers(int port, std::string source, int idle, int slow) : m_port(port), m_source(std::move(source)) {
    m_thread = std::thread([this, idle, slow] { run(idle, slow); });
  }
  ~Attackers() {
    m_stop = true;
    m_thread.join();
  }

  int idleClosed() const { return m_idleClosed; }
  int slowClosed() const { return m_slowClosed; }
  int slowAnswered408() const { return m_slow408; }
  int open() const { return m_open; }

 private:
  struct Slow {
    std::unique_ptr<RawConnection> connection;
    Clock::time_point nextLine;
    int lines = 0;
  };

  void run(int idle, int slow) {
    std::vector<std::unique_ptr<RawConnection>> idles;
    std::vector<Slow> slows;
    for (int i = 0; i < idle; ++i) idles.push_back(std::make_unique<RawConnection>(m_port, m_source));
    for (int i = 0; i < slow; ++i) slows.push_back(startSlow(i));
    while (!m_stop) {
      int open = 0;
      for (auto& connection : idles) {
        if (connection->closedByServer()) {
          ++m_idleClosed;
          connection = std::make_unique<RawConnection>(m_port, m_source);
        }
        ++open;
      }
      for (std::size_t i = 0; i < slows.size(); ++i) {
        Slow& client = slows[i];
        if (client.connection->closedByServer()) {
          ++m_slowClosed;
          const auto rest = client.connection->readUntilClosed(0ms);
          if (rest && rest->rfind("HTTP/1.1 408", 0) == 0) ++m_slow408;
          client = startSlow(static_cast<int>(i));
        } else if (Clock::now() >= client.nextLine) {
          client.connection->send("X-Slow-" + std::to_string(client.lines++) + ": still typing\r\n");
          client.nextLine = Clock::now() + 5s;
        }
        ++open;
      }
      m_open = open;
      std::this_thread::sleep_for(100ms);
    }
  }

  Slow startSlow(int i) {
    Slow client;
    client.connection = std::make_unique<RawConnection>(m_port, m_source);
    client.connection->send("GET /api/v1/health?slow=" + std::to_string(i) + " HTTP/1.1\r\nHost: hemma\r\n");
    client.nextLine = Clock::now() + 5s;
    return client;
  }

  int m_port;
  std::string m_source;
  std::atomic<bool> m_stop{false};
  std::atomic<int> m_idleClosed{0};
  std::atomic<int> m_slowClosed{0};
  std::atomic<int> m_slow408{0};
  std::atomic<int> m_open{0};
  std::thread m_thread;
};

// GET /api/v1/health on a new connection; the time it took, or nullopt when
// no 200 came within 5 s.
std::optional<std::chrono::milliseconds> timedHealth(int port) {
  const auto start = Clock::now();
  const auto answer = hemma::test::exchange(port, kHealth, 5s);
  if (!answer || answer->status != 200) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

}  // namespace

TEST_CASE("200 idle and 50 slow-header connections do not stop 20 tablets syncing or the health check") {
  hemma::test::TempDir dir(hemma::test::TempDir::InMemory);
  auto args = hemma::test::demoServerArgs();
  // The attackers share the tablets' address, and the per-address cap is
  // raised past them: what keeps the server answering is its timeouts and
  // that a waiting connection holds no worker, not the cap.
  args.insert(args.end(), {"--max-connections-per-address", "2000"});
  hemma::test::ServerProcess server(dir.file("server.db"), args);

  hemma::mobile::SystemClock clock;
  const std::vector<std::string> nurses = {"nurse-karin", "nurse-olle", "nurse-maria"};
  const std::vector<std::string> patients = {"patient-01", "patient-02", "patient-25"};  // one of each nurse's
  std::vector<std::unique_ptr<hemma::mobile::Device>> tablets;
  for (int i = 0; i < 20; ++i) {
    tablets.push_back(std::make_unique<hemma::mobile::Device>(dir.file("tablet-" + std::to_string(i) + ".db"), clock));
    hemma::test::signIn(*tablets.back(), server, nurses[static_cast<std::size_t>(i) % nurses.size()],
                        "tablet-" + std::to_string(i));
  }

  Attackers attackers(server.port(), "127.0.0.1", 200, 50);
  std::this_thread::sleep_for(1s);  // the attack is in place before the tablets start

  const auto end = Clock::now() + 60s;
  std::atomic<int> syncs{0};
  std::mutex failuresMutex;
  std::vector<std::string> failures;
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < tablets.size(); ++i) {
    threads.emplace_back([&, i] {
      hemma::mobile::HttpTransport link(hemma::mobile::ServerAddress::parse(server.url()), 10s);
      hemma::mobile::SyncClient::Options once;
      once.attempts = 1;  // every sync must succeed at its first try
      for (int round = 0; Clock::now() < end; ++round) {
        if (round % 3 == 0) {
          tablets[i]->writeNote(patients[i % patients.size()], "",
                                "tablet " + std::to_string(i) + " round " + std::to_string(round));
        }
        const auto report = tablets[i]->sync(link, once);
        if (report.ok) {
          ++syncs;
        } else {
          std::lock_guard lock(failuresMutex);
          failures.push_back("tablet-" + std::to_string(i) + " round " + std::to_string(round) + ": " + report.error);
        }
        // A tablet syncs every few minutes; twice a second keeps the server
        // busy without starving the machine the test shares (a sanitizer build).
        std::this_thread::sleep_for(500ms);
      }
    });
  }

  std::chrono::milliseconds slowest{0};
  int probes = 0;
  int unanswered = 0;
  while (Clock::now() < end) {
    const auto next = Clock::now() + 250ms;
    const auto took = timedHealth(server.port());
    ++probes;
    if (took) {
      slowest = std::max(slowest, *took);
    } else {
      ++unanswered;
    }
    std::this_thread::sleep_until(next);
  }
  for (auto& thread : threads) thread.join();

  INFO("syncs " << syncs << ", health probes " << probes << ", slowest " << slowest.count() << " ms; idle closed "
                << attackers.idleClosed() << ", slow closed " << attackers.slowClosed()
                << " (408: " << attackers.slowAnswered408() << ")");
  for (const auto& failure : failures) UNSCOPED_INFO(failure);
  CHECK(failures.empty());
  CHECK(unanswered == 0);
  CHECK(slowest < 1000ms);
  CHECK(probes >= 150);
  CHECK(syncs >= 20 * 20);
  // The attack was held open all along: the server closed idle and slow
  // connections at their deadlines (408 for an unfinished head), and they
  // were opened again.
  CHECK(attackers.open() == 250);
  CHECK(attackers.idleClosed() >= 200);
  CHECK(attackers.slowAnswered408() >= 50);
}

TEST_CASE("a connection over the per-address cap is refused at once with 503, and other addresses are served") {
  hemma::test::TempDir dir;
  hemma::test::ServerProcess server(dir.file("server.db"), {"--max-connections-per-address", "10"});

  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 10; ++i) held.push_back(std::make_unique<RawConnection>(server.port(), "127.0.0.2"));
  // The tenth is counted once the server has accepted it: it answers.
  REQUIRE(held.back()->send(kHealth));
  REQUIRE(held.back()->readAnswer(5s).value_or(hemma::test::RawAnswer{}).status == 200);

  const auto start = Clock::now();
  RawConnection over(server.port(), "127.0.0.2");
  const auto refused = over.readUntilClosed(2s);
  const auto took = Clock::now() - start;
  REQUIRE(refused);
  CHECK(refused->rfind("HTTP/1.1 503 Service Unavailable\r\n", 0) == 0);
  CHECK_THAT(*refused, Catch::Contains("Retry-After: 5"));
  CHECK_THAT(*refused, Catch::Contains("from 127.0.0.2 (at most 10)"));
  CHECK(took < 1s);

  // Other addresses are served meanwhile, on their own cap.
  for (const std::string source : {"127.0.0.1", "127.0.0.3"}) {
    RawConnection other(server.port(), source);
    REQUIRE(other.send(kHealth));
    const auto answer = other.readAnswer(2s);
    REQUIRE(answer);
    CHECK(answer->status == 200);
  }

  // When one of the ten closes, the address may connect again.
  held.front().reset();
  std::this_thread::sleep_for(500ms);
  RawConnection again(server.port(), "127.0.0.2");
  REQUIRE(again.send(kHealth));
  const auto answer = again.readAnswer(2s);
  REQUIRE(answer);
  CHECK(answer->status == 200);
}

TEST_CASE("a request head not finished within the header deadline gets 408 and a close") {
  hemma::test::TempDir dir;
  hemma::test::ServerProcess server(dir.file("server.db"), {"--header-timeout", "2", "--keep-alive-timeout", "3"});

  RawConnection slow(server.port());
  const auto start = Clock::now();
  REQUIRE(slow.send("GET /api/v1/health HTTP/1.1\r\nHost: hemma\r\n"));
  // One more line every half second: each line is progress, but the head as
  // a whole has one deadline.
  std::optional<std::string> answer;
  for (int i = 0; i < 10 && !answer; ++i) {
    slow.send("X-Line-" + std::to_string(i) + ": more\r\n");
    answer = slow.readUntilClosed(500ms);
  }
  const auto took = Clock::now() - start;
  REQUIRE(answer);
  CHECK(answer->rfind("HTTP/1.1 408 Request Time", 0) == 0);
  CHECK_THAT(*answer, Catch::Contains("request head: not complete within 2 s"));
  CHECK(took >= 2s);
  CHECK(took < 3s);

  // A connection that sends nothing is closed quietly after the idle timeout.
  RawConnection idle(server.port());
  const auto idleStart = Clock::now();
  const auto nothing = idle.readUntilClosed(6s);
  const auto idleTook = Clock::now() - idleStart;
  REQUIRE(nothing);
  CHECK(nothing->empty());
  CHECK(idleTook >= 3s);
  CHECK(idleTook < 4s);

  // And so is a kept-alive connection after its answer.
  RawConnection kept(server.port());
  REQUIRE(kept.send(kHealth));
  REQUIRE(kept.readAnswer(2s).value_or(hemma::test::RawAnswer{}).status == 200);
  const auto keptStart = Clock::now();
  const auto closed = kept.readUntilClosed(6s);
  REQUIRE(closed);
  CHECK(closed->empty());
  CHECK(Clock::now() - keptStart < 4s);
}

TEST_CASE("a request body not received within the body deadline gets 408") {
  hemma::test::TempDir dir;
  hemma::test::ServerProcess server(dir.file("server.db"), {"--body-timeout", "2"});

  RawConnection slow(server.port());
  const auto start = Clock::now();
  REQUIRE(
      slow.send("POST /api/v1/login HTTP/1.1\r\nHost: hemma\r\nContent-Type: application/json\r\n"
                "Content-Length: 200\r\n\r\n{"));
  std::optional<hemma::test::RawAnswer> answer;
  for (int i = 0; i < 20 && !answer; ++i) {
    slow.send(" ");  // a byte now and then does not extend the deadline
    answer = slow.readAnswer(300ms);
  }
  const auto took = Clock::now() - start;
  REQUIRE(answer);
  CHECK(answer->status == 408);
  CHECK(answer->error() == "body: not received within 2 s");
  CHECK(took >= 2s);
  CHECK(took < 3500ms);
}
