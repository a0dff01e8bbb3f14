import './components/podium-app';
