from .request_context import client_address_of, reset_client_address, set_client_address


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = set_client_address(client_address_of(request))
        try:
            return self.get_response(request)
        finally:
            reset_client_address(token)
