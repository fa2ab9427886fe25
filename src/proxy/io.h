// Asio vocabulary shared by the proxy: coroutine tokens that report errors as values (no
// exceptions on the request path) and the deadline watchdog used for every timeout.
#pragma once
#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <memory>

namespace eg::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
template <class T = void>
using awaitable = asio::awaitable<T>;

// co_await op(..., nothrow) yields std::tuple<error_code, ...> instead of throwing.
inline constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

// One timer per connection enforces whatever deadline the owner sets last: arming is a
// store, not a timer operation. When the deadline passes, `on_expire` runs once (it closes
// the socket, so the pending operation fails and the owner sees `expired()`).
class Deadline : public std::enable_shared_from_this<Deadline> {
 public:
  template <class OnExpire>
  Deadline(asio::any_io_executor ex, OnExpire on_expire)
      : timer_(ex), on_expire_(std::move(on_expire)) {}

  void start() { arm_wait(); }
  void set(Clock::duration d) {
    deadline_ = Clock::now() + d;
    // Later deadlines wait for the armed wake-up; only an earlier one re-arms the timer.
    if (deadline_ < armed_at_ && !stopped_ && !suspended_) {
      timer_.cancel();
      arm_wait();
    }
  }
  void clear() { deadline_ = Clock::time_point::max(); }
  // No pending wait (and no memory held for one) until resume(): a parked connection's idle
  // timeout is enforced by its worker's housekeeping tick instead.
  void suspend() {
    suspended_ = true;
    armed_at_ = Clock::time_point::max();
    timer_.cancel();
  }
  void resume() {
    if (!suspended_) return;
    suspended_ = false;
    if (!stopped_) arm_wait();
  }
  void stop() {
    stopped_ = true;
    timer_.cancel();
  }
  bool expired() const { return expired_; }
  void reset_expired() { expired_ = false; }

 private:
  void arm_wait() {
    // Idle connections without a deadline still wake once a minute; cheap and simple.
    auto at =
        deadline_ == Clock::time_point::max() ? Clock::now() + std::chrono::seconds(60) : deadline_;
    armed_at_ = at;
    timer_.expires_at(at);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      // Cancelled: stopped, or replaced by an earlier wake-up that is already armed.
      if (ec == asio::error::operation_aborted || self->stopped_) return;
      if (Clock::now() >= self->deadline_) {
        self->expired_ = true;
        self->deadline_ = Clock::time_point::max();
        self->on_expire_();
      }
      if (!self->stopped_ && !self->suspended_) self->arm_wait();
    });
  }

  asio::steady_timer timer_;
  std::function<void()> on_expire_;
  Clock::time_point deadline_ = Clock::time_point::max();
  Clock::time_point armed_at_ = Clock::time_point::max();
  bool stopped_ = false;
  bool suspended_ = false;
  bool expired_ = false;
};

}  // namespace eg::proxy
