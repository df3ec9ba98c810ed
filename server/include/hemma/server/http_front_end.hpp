#pragma once
// The server's HTTP front end, in place of Poco::Net::HTTPServer, which gives
// every open connection a worker thread for as long as it stays open (so a
// few idle or slow clients starve everyone).
//
// One watcher thread (epoll) accepts connections, applies the connection caps,
// and watches each connection until a complete request head has arrived: it
// peeks (MSG_PEEK) and consumes nothing, checks the head strictly
// (http_head.hpp), and enforces the header deadline and the idle timeout. Only
// a connection with a complete, valid head goes to a worker, where Poco's own
// HTTPServerSession, HTTPServerRequestImpl and HTTPServerResponseImpl parse it
// and the handler factory (the Router) answers. A kept-alive connection then
// goes back to the watcher, with any bytes Poco had already read past the
// answered request (a pipelined request) put back in front of the socket, so
// a worker is held only while a request is being read and answered.

#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/ServerSocket.h>

#include <memory>

#include "hemma/server/http_head.hpp"
#include "hemma/server/server_options.hpp"

namespace hemma::server {

class HttpFrontEnd {
 public:
  // Serves `socket` (bound and listening) with `factory`. Nothing runs until
  // start().
  HttpFrontEnd(Poco::Net::ServerSocket socket, Poco::Net::HTTPRequestHandlerFactory::Ptr factory,
               ConnectionLimits limits, HeadLimits headLimits = {});
  // Stops if still running.
  ~HttpFrontEnd();
  HttpFrontEnd(const HttpFrontEnd&) = delete;
  HttpFrontEnd& operator=(const HttpFrontEnd&) = delete;

  // Starts the watcher and the workers. Call once.
  void start();
  // Stops accepting, closes every connection that is not being answered,
  // lets the answers in progress finish (a body still arriving is cut off),
  // and joins every thread. Idempotent; call from one thread.
  void stop();

 private:
  class Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace hemma::server
