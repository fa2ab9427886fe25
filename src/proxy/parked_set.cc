#include "proxy/parked_set.h"

#include <sys/epoll.h>
#include <unistd.h>

#include "proxy/viewer_connection.h"

namespace eg::proxy {

ParkedSet::ParkedSet(asio::io_context& io) : watch_(io) {
  int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd >= 0) watch_.assign(fd);
}

ParkedSet::~ParkedSet() = default;

bool ParkedSet::add(int fd, ViewerConnection* c) {
  if (!watch_.is_open()) return false;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.ptr = c;
  if (::epoll_ctl(watch_.native_handle(), EPOLL_CTL_ADD, fd, &ev) != 0) return false;
  ++count_;
  if (!armed_) arm();
  return true;
}

void ParkedSet::remove(int fd) {
  if (::epoll_ctl(watch_.native_handle(), EPOLL_CTL_DEL, fd, nullptr) == 0) --count_;
}

void ParkedSet::arm() {
  armed_ = true;
  watch_.async_wait(asio::posix::descriptor_base::wait_read, [this](boost::system::error_code ec) {
    armed_ = false;
    if (ec) return;  // the worker is going away
    epoll_event events[256];
    int n = ::epoll_wait(watch_.native_handle(), events, 256, 0);
    for (int i = 0; i < n; ++i) {
      auto* c = static_cast<ViewerConnection*>(events[i].data.ptr);
      remove(c->native_fd());
      c->unpark();  // starts a coroutine later; never destroys another parked connection now
    }
    if (count_ > 0) arm();
  });
}

}  // namespace eg::proxy
