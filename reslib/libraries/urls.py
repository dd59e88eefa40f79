from django.urls import path

app_name = "libraries"
urlpatterns = []
