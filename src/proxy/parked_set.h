// Keep-alive connections idle for a while ("parked") wait for their next request here: one
// epoll set per worker, watched by a single asio wait. A parked connection then costs its
// object and its socket, nothing per wait — an asio async_wait would hold a ~400-byte
// operation per connection, which at 10,000 idle connections is most of the bill.
#pragma once
#include "proxy/io.h"

namespace eg::proxy {

class ViewerConnection;

class ParkedSet {
 public:
  explicit ParkedSet(asio::io_context& io);
  ~ParkedSet();
  ParkedSet(const ParkedSet&) = delete;
  ParkedSet& operator=(const ParkedSet&) = delete;

  // Watches fd for readability (or hang-up); `c->unpark()` runs once when it happens, after
  // which fd is no longer watched. False when the kernel refuses (the caller stays unparked).
  bool add(int fd, ViewerConnection* c);
  // Stops watching fd (the connection closes while parked).
  void remove(int fd);
  size_t size() const { return count_; }

 private:
  void arm();

  asio::posix::stream_descriptor watch_;  // owns the epoll fd
  size_t count_ = 0;
  bool armed_ = false;
};

}  // namespace eg::proxy
