/*
 * route.h: the table of endpoints and the dispatcher that picks one for
 * a request ('*' in a pattern matches one path segment, handed to the
 * handler percent-decoded in req->params).
 */
#ifndef WXSIM_ROUTE_H
#define WXSIM_ROUTE_H

#include "wxsim.h"

/* Fill resp for req: the route's handler, a signed 404 for unknown /v3
 * paths, 404 or 405 otherwise. */
void wxsim_route_dispatch(struct wxsim *, struct wxsim_req *, struct wxsim_resp *);

#endif
